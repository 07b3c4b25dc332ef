"""Email: an outbox written in the caller's transaction, then delivery by SMTP. It only delivers;
deciding who is due a message belongs to the feature that sends it."""

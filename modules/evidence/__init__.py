"""The evidence kit: the per-trust ledger, append-only triggers, signing, and the evidence-record spec."""

"""Training modules (one per policy section) and reading progress."""

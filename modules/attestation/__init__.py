"""Acknowledgements as evidence, statements, the per-trust hash-chained ledger and `flask ledger`."""

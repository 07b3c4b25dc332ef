"""Shared infrastructure: extensions, database set-up, capabilities, forms and helpers."""

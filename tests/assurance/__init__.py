"""The assurance battery: attacks a fresh instance and counts what got through (scripts/assurance.py).

Each part (matrix, sinks, inputs, burst) returns a `Part` of figures; report.py writes docs/assurance.md.
Test tooling, not application code: it lives beside the tests whose factories and access matrix it reuses.
"""

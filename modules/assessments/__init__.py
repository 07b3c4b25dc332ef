"""Quiz engine: question types, bank loader and validator, pure grading, attempts."""

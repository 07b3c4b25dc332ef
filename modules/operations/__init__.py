"""Operations: backup and restore, the restore drill (and, later, deploy checks, subject access and erasure)."""

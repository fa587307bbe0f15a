"""Operations: backups and point-in-time restore, metrics, structured logs, read-replica routing."""

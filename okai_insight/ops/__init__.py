"""Operations: backups, replicas and failover, maintenance, data lifecycle, security and monitoring."""

"""Operations on the whole database: data-key rotation, encrypted backups, retention.

docs/decisions/0009-backup-retention-keys.md explains the formats and the procedures.
"""

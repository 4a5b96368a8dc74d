"""`rigenera backup` and `rigenera restore` (issue 13, "Backups and restore").

A backup is one tar (archive.py): a pg_dump custom-format dump of the primary, every
stored file, and a manifest with the versions, per-table checksums computed in the very
snapshot pg_dump reads, and the sha256 of each member. A restore checks all of it before
touching the target and checks the restored tables against the manifest afterwards.
Point-in-time recovery (WAL archiving) is for production: docs/operations.md.
"""

from rigenera.backup.dump import BackupResult, create_backup
from rigenera.backup.restore import RestoreResult, restore_backup

__all__ = ["BackupResult", "RestoreResult", "create_backup", "restore_backup"]

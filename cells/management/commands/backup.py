"""`python manage.py backup [--output PATH] [--keep N]`: the database and MEDIA_ROOT in one archive.

See cells/backup.py for the archive's layout; README "Backups" for scheduling it.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from cells.backup import BackupError, backup, default_backup_dir, human_size


class Command(BaseCommand):
    help = "Write one .tar.gz archive with the database dump, every file under MEDIA_ROOT and a checksummed manifest."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help=f"Archive file (ending in .tar.gz) or a folder; default {default_backup_dir()}/"
            "chibo-YYYYmmdd-HHMMSS.tar.gz",
        )
        parser.add_argument(
            "--keep",
            type=int,
            metavar="N",
            help="Afterwards keep only the newest N chibo-*.tar.gz archives in the archive's folder.",
        )

    # Operator-facing output: one language, whatever the project's LANGUAGE_CODE (like seed_demo).
    @translation.override("en")
    def handle(self, *args, output: Path | None = None, keep: int | None = None, verbosity: int = 1, **options):
        progress = self.stdout.write if verbosity >= 1 else (lambda _message: None)
        try:
            result = backup(output, keep=keep, progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc))
        if verbosity >= 1:  # --verbosity 0 for cron: silent unless it fails
            written = f"Backup written: {result.path} ({human_size(result.size)}) in {result.seconds:.2f} s"
            self.stdout.write(self.style.SUCCESS(written))
            media = f"{result.media_files} files ({human_size(result.media_bytes)})"
            self.stdout.write(f"  {result.tables} tables, {result.rows} rows; {media}")

"""`python manage.py restore ARCHIVE [--force] [--check]`: rebuild an installation from a backup.

Stop the web server, the worker and beat first: the restore replaces the database under them.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from cells.backup import BackupError, restore, verify


class Command(BaseCommand):
    help = (
        "Restore the database and MEDIA_ROOT from an archive written by `backup`, into an empty installation "
        "(or over an existing one with --force). Every checksum is verified before anything is changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="A chibo-*.tar.gz archive written by `manage.py backup`.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace the data of an installation that is not empty (its database and MEDIA_ROOT).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only verify the archive (every checksum) and print its manifest; change nothing.",
        )

    @translation.override("en")
    def handle(self, *args, archive: Path, force: bool = False, check: bool = False, verbosity: int = 1, **options):
        progress = self.stdout.write if verbosity >= 1 else (lambda _message: None)
        try:
            if check:
                self._check(archive, progress)
                return
            result = restore(archive, force=force, progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc))
        rows = sum(result.tables.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {archive.name} in {result.seconds:.2f} s: {len(result.tables)} tables, {rows} rows,"
                f" {result.media_files} files; row counts match the manifest."
            )
        )
        for name, count in result.models:
            if count:
                self.stdout.write(f"  {count:>8}  {name}")
        if result.unknown:
            self.stdout.write(
                self.style.WARNING(
                    "The archive comes from newer code: migrations unknown here: "
                    + ", ".join(result.unknown)
                    + ". Update the code before you start the application."
                )
            )
        if result.unapplied:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(result.unapplied)} migrations of this code are not applied in the restored database:"
                    " run `python manage.py migrate`."
                )
            )

    def _check(self, archive: Path, progress) -> None:
        manifest = verify(archive, progress)
        files = manifest["files"]
        self.stdout.write(
            self.style.SUCCESS(
                f"{archive.name} is intact: {len(files)} files, every checksum matches."
                f" Made {manifest['created_at']} with Django {manifest['django_version']},"
                f" {manifest['database']['vendor']} {manifest['database']['server_version']},"
                f" {sum(manifest['tables'].values())} rows in {len(manifest['tables'])} tables."
            )
        )

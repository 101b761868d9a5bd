"""backup() and restore(): the steps in order, with progress lines for the operator."""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import django
from django.conf import settings
from django.db import connection
from django.utils import timezone

from cells.backup.archive import (
    FORMAT,
    MANIFEST,
    BackupError,
    Progress,
    Ticker,
    add_file,
    human_size,
    new_archive_path,
    prune,
    quiet,
    unpack_verified,
)
from cells.backup.database import (
    DUMP_NAMES,
    current_vendor,
    dump_database,
    local_models,
    records_held,
    restore_database,
    table_counts,
)


@dataclass
class BackupResult:
    path: Path
    size: int = 0
    rows: int = 0
    tables: int = 0
    media_files: int = 0
    media_bytes: int = 0
    seconds: float = 0.0
    deleted: list[Path] = field(default_factory=list)


def _media_files(root: Path, progress: Progress) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                progress(f"  skipped {path} (not a regular file)")
                continue
            yield path, path.relative_to(root).as_posix()


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _check_layout(*others: Path) -> Path:
    """MEDIA_ROOT is archived whole and, on restore, emptied: it must not hold the database or backups."""
    media = Path(settings.MEDIA_ROOT)
    db_name = str(connection.settings_dict["NAME"])
    paths = [*others, Path(db_name)] if connection.vendor == "sqlite" and ":" not in db_name else [*others]
    for path in paths:
        if _inside(path, media):
            raise BackupError(f"{path} lies inside MEDIA_ROOT ({media}): keep MEDIA_ROOT for uploaded files only.")
    return media


def backup(output: Path | None = None, *, keep: int | None = None, progress: Progress = quiet) -> BackupResult:
    started = time.monotonic()
    vendor = current_vendor()
    if keep is not None and keep < 1:
        raise BackupError("--keep must be at least 1.")
    path = new_archive_path(output)
    _check_layout(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    result = BackupResult(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with tempfile.TemporaryDirectory(prefix=".chibo-backup-", dir=path.parent) as tmp:
            dump = Path(tmp) / "dump"
            step = time.monotonic()
            progress(f"Dumping the database ({connection.display_name})…")
            counts, heads, server_version = dump_database(dump, vendor)
            result.rows, result.tables = sum(counts.values()), len(counts)
            progress(
                f"  {result.tables} tables, {result.rows} rows, {human_size(dump.stat().st_size)}"
                f" in {time.monotonic() - step:.2f} s"
            )
            # The archive holds personal data: readable by its owner only, from its first byte.
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                    files = [add_file(tar, dump, DUMP_NAMES[vendor])]
                    files += _add_media(tar, Path(settings.MEDIA_ROOT), result, progress)
                    manifest = {
                        "format": FORMAT,
                        "application": "chibo",
                        "created_at": timezone.localtime().isoformat(timespec="seconds"),
                        "django_version": django.get_version(),
                        "python_version": platform.python_version(),
                        "database": {"vendor": vendor, "server_version": server_version, "dump": DUMP_NAMES[vendor]},
                        "migrations": heads,
                        "tables": counts,
                        "files": files,
                    }
                    data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                    info = tarfile.TarInfo(MANIFEST)
                    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                    tar.addfile(info, io.BytesIO(data))
                raw.flush()
                os.fsync(raw.fileno())
        # Only a complete archive gets the real name, so --keep and restore never see half of one.
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    result.size = path.stat().st_size
    result.seconds = time.monotonic() - started
    if keep is not None:
        result.deleted = prune(path.parent, keep, progress, spare=path)
    return result


def _add_media(tar: tarfile.TarFile, root: Path, result: BackupResult, progress: Progress) -> list[dict]:
    step = time.monotonic()
    progress(f"Adding the files under MEDIA_ROOT ({root})…")
    files, tick = [], Ticker(progress)
    for path, relative in _media_files(root, progress):
        entry = add_file(tar, path, f"media/{relative}")
        files.append(entry)
        result.media_files += 1
        result.media_bytes += entry["size"]
        tick(lambda: f"  {result.media_files} files, {human_size(result.media_bytes)} so far")
    progress(f"  {result.media_files} files, {human_size(result.media_bytes)} in {time.monotonic() - step:.2f} s")
    return files


# --- Restore ---------------------------------------------------------------------------------


def files_held() -> int:
    media = Path(settings.MEDIA_ROOT)
    return sum(1 for p in media.rglob("*") if not p.is_dir()) if media.is_dir() else 0


@dataclass
class RestoreResult:
    manifest: dict
    tables: dict[str, int] = field(default_factory=dict)
    models: list[tuple[str, int]] = field(default_factory=list)
    media_files: int = 0
    unapplied: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    seconds: float = 0.0


def restore(archive: Path, *, force: bool = False, progress: Progress = quiet) -> RestoreResult:
    started = time.monotonic()
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    _check_layout(Path(settings.VAR_DIR))
    staging = Path(tempfile.mkdtemp(prefix=".chibo-restore-", dir=settings.VAR_DIR))
    try:
        step = time.monotonic()
        progress(f"Verifying {archive.name}…")
        manifest = unpack_verified(archive, staging, progress)
        progress(
            f"  {len(manifest['files'])} files, every checksum matches ({time.monotonic() - step:.2f} s);"
            f" made {manifest['created_at']} with Django {manifest['django_version']}"
        )
        vendor, archived = current_vendor(), manifest["database"]["vendor"]
        if archived != vendor:
            raise BackupError(
                f"The archive holds a {archived} database but this installation uses {vendor}:"
                " restore it into the same kind of database. Nothing was changed."
            )
        records, files = records_held(), files_held()
        held = records[:6] + (["…"] if len(records) > 6 else []) + ([f"{files} files in MEDIA_ROOT"] if files else [])
        if held and not force:
            raise BackupError(
                "This installation is not empty (" + ", ".join(held) + ")."
                " A restore replaces everything in it: run again with --force to do that. Nothing was changed."
            )
        step = time.monotonic()
        progress(f"Restoring the database ({connection.display_name})…")
        dump, archived_tables = staging / manifest["database"]["dump"], set(manifest["tables"])
        restore_database(dump, vendor, archived_tables=archived_tables, holds_data=bool(records))
        progress(f"  done in {time.monotonic() - step:.2f} s")
        step = time.monotonic()
        progress(f"Restoring the files into MEDIA_ROOT ({settings.MEDIA_ROOT})…")
        result = RestoreResult(manifest)
        result.media_files = _restore_media(staging / "media", Path(settings.MEDIA_ROOT))
        progress(f"  {result.media_files} files in {time.monotonic() - step:.2f} s")
        _compare_counts(manifest, result)
        _compare_migrations(manifest, result)
        result.seconds = time.monotonic() - started
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _restore_media(staged: Path, media_root: Path) -> int:
    media_root.mkdir(parents=True, exist_ok=True)
    # Only reached with an empty MEDIA_ROOT or --force: clear the contents, keep the folder itself
    # (in docker compose it is a volume's mount point and cannot be renamed).
    for child in media_root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    if not staged.is_dir():
        return 0
    count = 0
    for source in sorted(p for p in staged.rglob("*") if p.is_file()):
        target = media_root / source.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        count += 1
    return count


def _compare_counts(manifest: dict, result: RestoreResult) -> None:
    vendor = current_vendor()
    with connection.cursor() as cursor:
        result.tables = table_counts(cursor, vendor)
    if result.tables != manifest["tables"]:
        wrong = sorted(
            t for t in set(result.tables) | set(manifest["tables"]) if result.tables.get(t) != manifest["tables"].get(t)
        )
        table = wrong[0]
        raise BackupError(
            f"The restored database differs from the archive: {table} has {result.tables.get(table, 'no')} rows,"
            f" the manifest says {manifest['tables'].get(table, 'none')}."
        )
    for model in local_models():
        if not model._meta.auto_created and not model.__name__.startswith("Historical"):
            result.models.append((str(model._meta.verbose_name_plural), result.tables.get(model._meta.db_table, 0)))


def _compare_migrations(manifest: dict, result: RestoreResult) -> None:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    result.unapplied = [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(graph.leaf_nodes())]
    result.unknown = [f"{app}.{name}" for app, name in manifest["migrations"].items() if (app, name) not in graph.nodes]

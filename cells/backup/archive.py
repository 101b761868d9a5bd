"""The archive on disk: its name, its members, their checksums and its manifest.

Files are hashed while tarfile reads them, and unpacking hashes what it writes, so a checksum is
always of the bytes stored. Nothing here touches the database.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import re
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_KEYS = ("created_at", "django_version", "database", "migrations", "tables", "files")
ARCHIVE_NAME = re.compile(r"^chibo-(\d{8}-\d{6})(?:-(\d+))?\.tar\.gz$")
CHUNK = 1024 * 1024
PROGRESS_EVERY = 2.0  # seconds between progress lines in long steps

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


def quiet(_message: str) -> None:
    pass


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class _HashingReader:
    """Hashes what tarfile reads, so each file is read once and the checksum is of what was stored."""

    def __init__(self, f) -> None:
        self.f, self.digest = f, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.digest.update(data)
        return data


class Ticker:
    def __init__(self, progress: Progress) -> None:
        self.progress, self.last = progress, time.monotonic()

    def __call__(self, message: Callable[[], str]) -> None:
        if time.monotonic() - self.last >= PROGRESS_EVERY:
            self.last = time.monotonic()
            self.progress(message())


# --- Archives on disk ------------------------------------------------------------------------


def default_backup_dir() -> Path:
    return Path(settings.VAR_DIR) / "backups"


@dataclass(frozen=True)
class ArchiveInfo:
    path: Path
    size: int
    modified: float  # POSIX timestamp

    @property
    def age_seconds(self) -> float:
        return max(time.time() - self.modified, 0.0)

    @property
    def modified_at(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.modified, tz=datetime.UTC)


def archives_in(folder: Path) -> list[ArchiveInfo]:
    """The backups in a folder (only names this module writes), oldest first."""
    found = []
    for path in folder.glob("chibo-*.tar.gz") if folder.is_dir() else []:
        if (match := ARCHIVE_NAME.match(path.name)) and path.is_file():
            stat = path.stat()
            found.append(((match[1], int(match[2] or 0)), ArchiveInfo(path, stat.st_size, stat.st_mtime)))
    return [info for _key, info in sorted(found, key=lambda pair: pair[0])]


def latest_backup(folder: Path | None = None) -> ArchiveInfo | None:
    found = archives_in(folder or default_backup_dir())
    return found[-1] if found else None


def prune(folder: Path, keep: int, progress: Progress = quiet, *, spare: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` archives in the folder; other files, and `spare`, are never touched."""
    if keep < 1:
        raise BackupError("--keep must be at least 1.")
    # spare: the archive just written stays even if a clock set back makes its name look older.
    doomed = [info.path for info in archives_in(folder)[:-keep] if info.path != spare]
    for path in doomed:
        path.unlink()
        progress(f"Deleted old backup {path.name}")
    return doomed


def new_archive_path(output: Path | None) -> Path:
    # A name ending in .tar.gz is the archive itself; anything else is a folder (created if need be).
    if output is not None and output.name.endswith(".tar.gz") and not output.is_dir():
        if output.exists():
            raise BackupError(f"{output} exists already: choose another name or a folder.")
        return output
    folder = output or default_backup_dir()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    path, n = folder / f"chibo-{stamp}.tar.gz", 1
    while path.exists():  # two backups in one second
        n += 1
        path = folder / f"chibo-{stamp}-{n}.tar.gz"
    return path


def add_file(tar: tarfile.TarFile, path: Path, arcname: str) -> dict:
    stat = path.stat()
    info = tarfile.TarInfo(arcname)
    info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o644
    with open(path, "rb") as f:
        reader = _HashingReader(f)
        tar.addfile(info, reader)
    return {"path": arcname, "size": stat.st_size, "sha256": reader.digest.hexdigest()}


# --- Verify ----------------------------------------------------------------------------------


def _safe_member_name(member: tarfile.TarInfo) -> str:
    name = member.name
    parts = PurePosixPath(name).parts
    if (
        not member.isreg()
        or name.startswith("/")
        or "\\" in name
        or len(parts) < 2
        or parts[0] not in ("database", "media")
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise BackupError(f"The archive holds an unexpected entry {name!r}: not a Chi bộ backup, refused.")
    return name


def unpack_verified(archive: Path, staging: Path, progress: Progress = quiet) -> dict:
    """Unpack into staging, checking gzip's CRC and every member against the manifest; return the manifest.

    Raises BackupError on any damage, before anything outside staging is touched.
    """
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file.")
    found: dict[str, tuple[int, str]] = {}
    manifest = None
    tick = Ticker(progress)
    try:
        with open(archive, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                for member in tar:
                    if member.name == MANIFEST and member.isreg():
                        manifest = json.loads(tar.extractfile(member).read().decode())
                        continue
                    name = _safe_member_name(member)
                    if name in found:
                        raise BackupError(f"The archive holds {name} twice: refused.")
                    target = staging / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    digest, size = hashlib.sha256(), 0
                    with tar.extractfile(member) as source, open(target, "wb") as out:
                        while chunk := source.read(CHUNK):
                            digest.update(chunk)
                            size += len(chunk)
                            out.write(chunk)
                    found[name] = (size, digest.hexdigest())
                    tick(lambda: f"  {len(found)} files checked")
            # tarfile stops at the end-of-archive blocks; read gzip to its end so that its CRC-32 and
            # length trailer are checked too.
            while gz.read(CHUNK):
                pass
    except BackupError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as exc:
        # gzip.BadGzipFile is an OSError; json's and UTF-8's decode errors are ValueErrors.
        raise BackupError(f"The archive {archive.name} is damaged ({type(exc).__name__}: {exc}). Nothing was changed.")
    _check_manifest(archive, manifest, found)
    return manifest


def verify(archive: Path, progress: Progress = quiet) -> dict:
    """Check an archive without restoring it (`restore --check`); return its manifest."""
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".chibo-check-", dir=settings.VAR_DIR) as staging:
        return unpack_verified(archive, Path(staging), progress)


def _check_manifest(archive: Path, manifest: dict | None, found: dict[str, tuple[int, str]]) -> None:
    damaged = f"The archive {archive.name} is damaged"
    if not isinstance(manifest, dict) or manifest.get("application") != "chibo":
        raise BackupError(f"{archive.name} has no Chi bộ manifest: not a Chi bộ backup. Nothing was changed.")
    if manifest.get("format", 0) > FORMAT:
        raise BackupError(f"{archive.name} was written by a newer Chi bộ (format {manifest['format']}).")
    try:
        listed = {entry["path"]: (entry["size"], entry["sha256"]) for entry in manifest["files"]}
        dump = manifest["database"]["dump"]
        if any(key not in manifest for key in MANIFEST_KEYS) or "vendor" not in manifest["database"]:
            raise KeyError
    except (KeyError, TypeError):
        raise BackupError(f"{archive.name} has an incomplete manifest: not a Chi bộ backup. Nothing was changed.")
    for name, (size, sha256) in listed.items():
        if name not in found:
            raise BackupError(f"{damaged}: {name} is missing. Nothing was changed.")
        if found[name] != (size, sha256):
            raise BackupError(f"{damaged}: the checksum of {name} does not match the manifest. Nothing was changed.")
    if extra := sorted(set(found) - set(listed)):
        raise BackupError(f"{damaged}: {extra[0]} is not in the manifest. Nothing was changed.")
    if dump not in listed:
        raise BackupError(f"{damaged}: the database dump is missing. Nothing was changed.")

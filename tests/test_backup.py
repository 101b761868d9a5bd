"""Backup and restore, run as an operator runs them: `manage.py` in subprocesses, each installation
with its own database (a temporary SQLite file, or a temporary PostgreSQL database), VAR_DIR and
MEDIA_ROOT. pytest-django's own test database plays no part (on SQLite it may live in memory).

A round trip must reproduce every row (row counts of every model, and a hash of every table's
sorted content) and every file (SHA-256). Timings are printed (pytest -s) for the report.
"""

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cells.backup import archives_in, prune

BASE_DIR = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# Run inside an installation by `manage.py shell -c`: row counts per model through the ORM, and per
# table (migrations, sessions, beat schedules too) the row count and a hash of the sorted rows.
FINGERPRINT = """
import hashlib, json
from django.apps import apps
from django.db import connection

def cell(value):
    return bytes(value).hex() if isinstance(value, (bytes, memoryview)) else repr(value)

out = {"models": {m._meta.label: m._base_manager.count() for m in apps.get_models(include_auto_created=True)}}
out["tables"] = {}
with connection.cursor() as cursor:
    for table in connection.introspection.table_names(cursor):
        cursor.execute("SELECT * FROM " + connection.ops.quote_name(table))
        rows = sorted("|".join(cell(v) for v in row) for row in cursor.fetchall())
        out["tables"][table] = [len(rows), hashlib.sha256("\\n".join(rows).encode()).hexdigest()]
print("FINGERPRINT:" + json.dumps(out, sort_keys=True))
"""


BLOCKING_TABLE = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE newer_feature (unit_id bigint REFERENCES cells_partyunit (id))")
    cursor.execute("INSERT INTO newer_feature SELECT id FROM cells_partyunit LIMIT 1")
"""


def installation(root: Path, database_url: str) -> dict[str, str]:
    """The environment of a separate installation under root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CHIBO_", "CELERY_", "EMAIL_"))}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="true",
        CHIBO_VAR_DIR=str(root / "var"),
        CHIBO_MEDIA_ROOT=str(root / "media"),
        CELERY_BROKER_URL="filesystem://",
        EMAIL_URL="consolemail://",
    )
    return env


def manage(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=600
    )
    if ok and result.returncode != 0:
        pytest.fail(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def timed(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    manage(env, *args)
    return time.perf_counter() - started


def fingerprint(env: dict[str, str]) -> dict:
    out = manage(env, "shell", "-c", FINGERPRINT).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("FINGERPRINT:"))[12:])


def write_media(media: Path) -> None:
    """Uploaded and archived files as they come: nested, Vietnamese names, binary, empty."""
    rng = random.Random(2026)
    files = {
        "minutes/2026/biên-bản-họp-chi-bộ-tháng-3.pdf": rng.randbytes(300_000),
        "resolutions/nghị-quyết-05.pdf": rng.randbytes(1_500_000),
        "uploads/danh sách đảng viên.xlsx": rng.randbytes(40_000),
        "uploads/empty.txt": b"",
        "note.txt": "Chi bộ Khu phố 1 — Đảng bộ phường Tam Đảo\n".encode(),
    }
    for name, data in files.items():
        path = media / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def media_checksums(media: Path) -> dict[str, str]:
    return {
        p.relative_to(media).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(media.rglob("*"))
        if p.is_file()
    }


def assert_same_installation(source: dict[str, str], target: dict[str, str]) -> dict:
    before, after = fingerprint(source), fingerprint(target)
    assert after["models"] == before["models"]
    assert after["tables"] == before["tables"]
    assert before["models"]["members.Member"] >= 100, "the demo data should be there"
    assert media_checksums(Path(target["CHIBO_MEDIA_ROOT"])) == media_checksums(Path(source["CHIBO_MEDIA_ROOT"]))
    return before


def report(vendor: str, backup_s: float, restore_s: float, archive: Path, prints: dict) -> None:
    rows = sum(n for n, _hash in prints["tables"].values())
    print(
        f"\n[backup timing] {vendor}: backup {backup_s:.2f} s, restore {restore_s:.2f} s (whole manage.py runs);"
        f" demo data {rows} rows in {len(prints['tables'])} tables + 5 files (1.8 MB);"
        f" archive {archive.stat().st_size / 1024:.0f} KB"
    )


# --- SQLite -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("backup-sqlite")
    source = installation(root / "source", f"sqlite:///{root / 'source.sqlite3'}")
    target = installation(root / "target", f"sqlite:///{root / 'target.sqlite3'}")
    manage(source, "migrate", "--no-input")
    manage(source, "seed_demo")
    write_media(Path(source["CHIBO_MEDIA_ROOT"]))
    backups = root / "backups"
    backups.mkdir()
    manage(source, "backup", "--output", str(backups))
    backup_s = timed(source, "backup", "--output", str(backups), "--keep", "1")
    (archive,) = backups.iterdir()
    restore_s = timed(target, "restore", str(archive))
    return source, target, archive, backup_s, restore_s


def test_sqlite_round_trip_reproduces_every_row_and_every_file(sqlite_pair):
    source, target, archive, backup_s, restore_s = sqlite_pair
    prints = assert_same_installation(source, target)
    report("SQLite", backup_s, restore_s, archive, prints)


def test_keep_left_only_the_newest_archive_readable_by_its_owner_only(sqlite_pair):
    _source, _target, archive, *_ = sqlite_pair
    assert [info.path for info in archives_in(archive.parent)] == [archive]
    assert archive.stat().st_mode & 0o777 == 0o600


def test_manifest_lists_versions_migrations_and_every_file_with_its_checksum(sqlite_pair):
    source, _target, archive, *_ = sqlite_pair
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["database"]["vendor"] == "sqlite"
    assert manifest["django_version"].startswith("5.2")
    assert {"cells", "members", "auth", "django_celery_beat"} <= set(manifest["migrations"])
    assert manifest["migrations"]["cells"] >= "0004_heartbeat"
    media = {e["path"].removeprefix("media/"): e["sha256"] for e in manifest["files"] if e["path"].startswith("media/")}
    assert media == media_checksums(Path(source["CHIBO_MEDIA_ROOT"]))
    assert [e["path"] for e in manifest["files"]][0] == "database/chibo.sqlite3"
    assert manifest["tables"]["members_member"] >= 100


def test_restore_refuses_an_installation_that_holds_data(sqlite_pair):
    source, _target, archive, *_ = sqlite_pair
    result = manage(source, "restore", str(archive), ok=False)
    assert result.returncode != 0
    assert "is not empty" in result.stderr and "--force" in result.stderr and "party units" in result.stderr


def test_restore_with_force_replaces_the_data(sqlite_pair):
    source, target, archive, *_ = sqlite_pair
    (Path(target["CHIBO_MEDIA_ROOT"]) / "stray.txt").write_text("not in the backup")
    manage(target, "shell", "-c", "from cells.models import PartyUnit; PartyUnit.objects.update(name='Đã đổi')")
    manage(target, "restore", str(archive), "--force")
    assert_same_installation(source, target)


def test_restore_check_verifies_without_changing_anything(sqlite_pair):
    _source, target, archive, *_ = sqlite_pair
    out = manage(target, "restore", "--check", str(archive)).stdout
    assert "is intact" in out and "every checksum matches" in out


# --- Damaged archives (in-process: refused before any database access, which pytest-django would block) -


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.VAR_DIR


@pytest.mark.parametrize("where", [0.25, 0.5, 0.75, -6])
def test_archive_with_one_byte_changed_is_refused(sqlite_pair, var_dir, tmp_path, where):
    _source, _target, archive, *_ = sqlite_pair
    data = bytearray(archive.read_bytes())
    offset = int(len(data) * where) if where > 0 else len(data) + where  # -6: inside gzip's CRC-32
    data[offset] ^= 0x5A
    damaged = tmp_path / archive.name
    damaged.write_bytes(bytes(data))
    with pytest.raises(CommandError, match=r"is damaged .*Nothing was changed"):
        call_command("restore", str(damaged), stdout=io.StringIO())
    assert not (tmp_path / "media").exists()
    assert not [p for p in var_dir.iterdir() if p.name.startswith(".chibo-restore-")]


def test_file_that_does_not_match_its_checksum_is_refused(sqlite_pair, var_dir, tmp_path):
    """A well-formed archive whose file was swapped after the manifest was written (gzip's CRC is fine)."""
    _source, _target, archive, *_ = sqlite_pair
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(archive) as original, gzip.open(forged, "wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for member in original:
            data = original.extractfile(member).read()
            if member.name == "media/note.txt":
                data = data.replace(b"Khu ph\xe1\xbb\x91 1", b"Khu ph\xe1\xbb\x91 7")
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    with pytest.raises(CommandError, match=r"checksum of media/note.txt does not match the manifest"):
        call_command("restore", str(forged), stdout=io.StringIO())


def test_archive_without_manifest_is_refused(var_dir, tmp_path):
    bogus = tmp_path / "chibo-20260101-000000.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        info = tarfile.TarInfo("media/x.txt")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(CommandError, match="not a Chi bộ backup"):
        call_command("restore", str(bogus), stdout=io.StringIO())


def test_entry_outside_the_archive_folders_is_refused(var_dir, tmp_path):
    bogus = tmp_path / "evil.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        info = tarfile.TarInfo("media/../../../etc/evil")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(CommandError, match="unexpected entry"):
        call_command("restore", str(bogus), stdout=io.StringIO())
    assert not (tmp_path / "etc").exists()


def test_keep_deletes_only_older_backups_of_this_naming(tmp_path):
    names = [
        "chibo-20260101-010000.tar.gz",
        "chibo-20260102-010000.tar.gz",
        "chibo-20260102-010000-2.tar.gz",  # second one of that second
        "chibo-20260103-010000.tar.gz",
        "chibo-manual.tar.gz",
        "notes.txt",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    deleted = prune(tmp_path, keep=2)
    assert sorted(p.name for p in deleted) == ["chibo-20260101-010000.tar.gz", "chibo-20260102-010000.tar.gz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chibo-20260102-010000-2.tar.gz",
        "chibo-20260103-010000.tar.gz",
        "chibo-manual.tar.gz",
        "notes.txt",
    ]


# --- PostgreSQL -----------------------------------------------------------------------------------


@pytest.fixture
def pg_databases():
    """Two empty databases on 127.0.0.1:5432 (user postgres, trust auth), dropped afterwards."""
    import psycopg

    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable ({str(exc).strip()}); CI runs this test")
    suffix = uuid.uuid4().hex[:10]
    names = [f"chibo_backup_source_{suffix}", f"chibo_backup_target_{suffix}"]
    try:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
        yield [f"postgres://postgres@127.0.0.1:5432/{name}" for name in names]
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.postgres
def test_postgresql_round_trip_reproduces_every_row_and_every_file(pg_databases, tmp_path):
    if shutil.which("pg_dump") is None and not os.environ.get("CI"):
        pytest.skip("pg_dump is not installed (apt-get install postgresql-client)")
    source_url, target_url = pg_databases
    source = installation(tmp_path / "source", source_url)
    target = installation(tmp_path / "target", target_url)
    manage(source, "migrate", "--no-input")
    manage(source, "seed_demo")
    write_media(Path(source["CHIBO_MEDIA_ROOT"]))
    backups = tmp_path / "backups"
    backup_s = timed(source, "backup", "--output", str(backups))
    (archive,) = backups.iterdir()
    # The target is what `docker compose up` leaves: migrations applied, no data.
    manage(target, "migrate", "--no-input")
    restore_s = timed(target, "restore", str(archive))
    prints = assert_same_installation(source, target)
    report("PostgreSQL", backup_s, restore_s, archive, prints)
    # Over data, --force: the schema and rows are replaced, not merged.
    manage(target, "shell", "-c", "from cells.models import PartyUnit; PartyUnit.objects.update(name='Đã đổi')")
    manage(target, "restore", str(archive), "--force")
    assert_same_installation(source, target)
    # A restore over data that fails half-way changes nothing: here a table unknown to the archive
    # holds a reference that stops pg_restore from dropping the units table.
    manage(target, "shell", "-c", BLOCKING_TABLE)
    before = fingerprint(target)
    failed = manage(target, "restore", str(archive), "--force", ok=False)
    assert failed.returncode != 0 and "the database is as it was" in failed.stderr
    assert fingerprint(target) == before


def test_keep_never_deletes_the_archive_just_written_even_when_its_name_looks_older(tmp_path):
    for name in ["chibo-20260101-010000.tar.gz", "chibo-20260105-010000.tar.gz"]:
        (tmp_path / name).write_bytes(b"x")
    just_written = tmp_path / "chibo-20260101-010000.tar.gz"  # the clock was set back
    assert prune(tmp_path, keep=1, spare=just_written) == []
    assert just_written.exists()

"""Time `manage.py backup` and `manage.py restore` on the demo data, on SQLite and PostgreSQL.

Each vendor gets two throw-away installations (a temporary folder each; on PostgreSQL two
databases on 127.0.0.1:5432 as user postgres, dropped at the end): the source is migrated, seeded
with `seed_demo` (`--scale N` for a bigger tree) and given 20 MB of files in MEDIA_ROOT; it is
backed up, and the archive restored into the empty target. Prints rows, sizes and times: the time
the command reports for its own work, and the whole `manage.py` run (Python and Django start-up
included, about 1 s here).

    .venv/bin/python bench/backup_restore.py [--scale N] [--only sqlite|postgresql] [--repeat 3]
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"


def manage(env: dict, *args: str) -> tuple[str, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout, time.perf_counter() - started


def installation(root: Path, url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CHIBO_", "CELERY_", "EMAIL_"))}
    env.update(
        DATABASE_URL=url,
        DJANGO_DEBUG="true",
        CHIBO_VAR_DIR=str(root / "var"),
        CHIBO_MEDIA_ROOT=str(root / "media"),
        CELERY_BROKER_URL="filesystem://",
        EMAIL_URL="consolemail://",
    )
    return env


def own_seconds(output: str) -> float:
    return float(re.search(r"^(?:Backup written:|Restored) .*? in ([\d.]+) s", output, re.MULTILINE)[1])


def psql(sql: str) -> None:
    subprocess.run(["psql", f"{PG}/postgres", "-qc", sql], check=True, capture_output=True)


def run(vendor: str, scale: int | None, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="chibo-bench-") as tmp:
        root = Path(tmp)
        if vendor == "sqlite":
            urls = [f"sqlite:///{root / 'source.sqlite3'}", f"sqlite:///{root / 'target.sqlite3'}"]
        else:
            names = [f"chibo_bench_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("source", "target")]
            for name in names:
                psql(f'CREATE DATABASE "{name}"')
            urls = [f"{PG}/{name}" for name in names]
        try:
            source, target = installation(root / "source", urls[0]), installation(root / "target", urls[1])
            manage(source, "migrate", "--no-input")
            manage(source, "seed_demo", *(["--scale", str(scale)] if scale else []))
            rng = random.Random(1)
            for i in range(20):  # 20 MB of scans and PDFs: incompressible, like the real ones
                path = root / "source" / "media" / "minutes" / f"scan-{i:02}.pdf"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(rng.randbytes(1024 * 1024))
            for attempt in range(repeat):
                out, backup_wall = manage(source, "backup", "--output", str(root / "backups"), "--keep", "1")
                archive = next((root / "backups").glob("chibo-*.tar.gz"))
                manifest_rows = sum(json.loads(manifest(archive))["tables"].values())
                restore_out, restore_wall = manage(target, "restore", str(archive), *(["--force"] if attempt else []))
                print(
                    f"{vendor:<10} rows {manifest_rows:>7}  archive {archive.stat().st_size / 1e6:6.1f} MB  "
                    f"backup {own_seconds(out):5.2f} s ({backup_wall:5.2f} s whole run)  "
                    f"restore {own_seconds(restore_out):5.2f} s ({restore_wall:5.2f} s whole run)"
                    + ("  [over data, --force]" if attempt else ""),
                    flush=True,
                )
        finally:
            if vendor == "postgresql":
                for name in names:
                    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manifest(archive: Path) -> str:
    import tarfile

    with tarfile.open(archive) as tar:
        return tar.extractfile("manifest.json").read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, help="seed_demo --scale N (default: the plain demo data)")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for vendor in [args.only] if args.only else ["sqlite", "postgresql"]:
        run(vendor, args.scale, args.repeat)


if __name__ == "__main__":
    main()

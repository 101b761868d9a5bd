"""The register book of a long register, printed by a Celery worker while the page shows progress.

A job is a small JSON file next to its PDF in the default storage (register-books/<id>.json): who
asked, for which unit and filters, how far the printer is. The file is written by the web process
when the job starts and by the worker as it prints; the page reads it. Only the person who started
a job can see it or download its book (the views check the unit's scope as well).
"""

from __future__ import annotations

import datetime
import json
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from cells.models import PartyUnit

JOB_DIR = "register-books"
# A register up to this many resolutions prints while the person waits for the download.
SYNC_LIMIT = 20
# A printed book is a download, not a record (the register is): its files go after a day.
KEEP_HOURS = 24


def _path(job_id: str, extension: str) -> str:
    return f"{JOB_DIR}/{uuid.UUID(str(job_id))}.{extension}"


def read(job_id) -> dict | None:
    try:
        with default_storage.open(_path(job_id, "json"), "rb") as file:
            return json.loads(file.read())
    except (FileNotFoundError, OSError, ValueError):
        return None


def _write(job_id, state: dict) -> None:
    name = _path(job_id, "json")
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(json.dumps(state).encode()))


def start(*, user, unit: PartyUnit, params: dict) -> str:
    job_id = str(uuid.uuid4())
    _write(job_id, {"user": user.pk, "unit": unit.pk, "params": params, "state": "queued", "done": 0, "total": None})
    from .tasks import build_register_book

    transaction.on_commit(lambda: build_register_book.delay(job_id))
    return job_id


def run(job_id) -> None:
    """Print the book (called by the worker); progress is written every few resolutions."""
    from . import exports
    from .services import register

    state = read(job_id)
    if state is None or state["state"] == "ready":
        return
    unit = PartyUnit.objects.filter(pk=state["unit"]).first()
    if unit is None:
        return
    filters = register.parse_filters(unit, state["params"])
    rows = register.decorate(register.register_rows(unit, filters))
    state.update(state="running", done=0, total=len(rows))
    _write(job_id, state)

    def progress(done: int, total: int) -> None:
        _write(job_id, {**state, "done": done, "total": total})

    try:
        pdf = exports.render_register_book(unit, rows, filters, progress=progress)
    except Exception:
        _write(job_id, {**state, "state": "failed"})
        raise
    name = _path(job_id, "pdf")
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(pdf))
    _write(job_id, {**state, "state": "ready", "done": len(rows), "total": len(rows)})


def open_pdf(job_id):
    return default_storage.open(_path(job_id, "pdf"), "rb")


def clean(now: datetime.datetime | None = None) -> int:
    """Delete the job files (state and book) last written more than KEEP_HOURS ago; the number of
    files deleted. Run daily by beat (resolutions.tasks.clean_register_books)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=KEEP_HOURS)
    try:
        _dirs, files = default_storage.listdir(JOB_DIR)
    except FileNotFoundError:
        return 0
    deleted = 0
    for filename in files:
        name = f"{JOB_DIR}/{filename}"
        try:
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
                deleted += 1
        except FileNotFoundError:
            continue  # deleted meanwhile
    return deleted

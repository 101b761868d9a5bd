"""A long register's book is printed by the worker while the page shows progress."""

import subprocess

import pytest
from django.urls import reverse

from resolutions import book_jobs
from resolutions.services import register
from tests.resolutions.bulk import many_resolutions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_long_register_prints_in_the_background_with_progress(cast, term, client_for):
    many_resolutions(cast, term, n=book_jobs.SYNC_LIMIT + 3, tasks_each=1)
    client = client_for(cast.secretary_user)
    page = client.get(reverse("resolutions:register", args=[cast.cell_a.uid]))
    assert reverse("resolutions:register_book_start", args=[cast.cell_a.uid]) in page.content.decode()
    response = client.post(reverse("resolutions:register_book_start", args=[cast.cell_a.uid]), {"year": "2025"})
    assert response.status_code == 302
    job_id = response["Location"].rstrip("/").split("/")[-1]
    status = client.get(response["Location"])
    assert "Đang chờ máy in" in status.content.decode() and 'hx-trigger="every 1s"' in status.content.decode()
    seen = []
    real_write = book_jobs._write
    book_jobs._write = lambda job, state: (seen.append((state["state"], state["done"])), real_write(job, state))
    try:
        book_jobs.run(job_id)  # what the worker does
    finally:
        book_jobs._write = real_write
    year_rows = len(register.register_rows(cast.cell_a, register.Filters(year=2025)))
    assert seen[0] == ("running", 0) and seen[-1] == ("ready", year_rows)
    assert [done for state, done in seen if state == "running"][1:] == sorted(
        done for state, done in seen if state == "running"
    )[1:]
    assert len(seen) >= 4  # progress written between the passes, not only at the end
    partial = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and 'data-testid="book-download"' in partial and "every 1s" not in partial
    pdf = client.get(reverse("resolutions:register_book_pdf", args=[cast.cell_a.uid, job_id]))
    assert pdf.status_code == 200
    text = " ".join(
        subprocess.run(["pdftotext", "-", "-"], input=b"".join(pdf.streaming_content), capture_output=True)
        .stdout.decode()
        .split()
    )
    assert "SỔ NGHỊ QUYẾT" in text and "Năm 2025" in text and text.count("T/M CHI BỘ") == year_rows


def test_a_job_is_only_its_owners(cast, term, client_for):
    many_resolutions(cast, term, n=2, tasks_each=0)
    job_id = book_jobs.start(user=cast.secretary_user, unit=cast.cell_a, params={})
    url = reverse("resolutions:register_book", args=[cast.cell_a.uid, job_id])
    assert client_for(cast.secretary_user).get(url).status_code == 200
    assert client_for(cast.member_user).get(url).status_code == 404  # same cell, someone else's job
    assert client_for(cast.outsider_user).get(url).status_code == 404
    pdf = reverse("resolutions:register_book_pdf", args=[cast.cell_a.uid, job_id])
    assert client_for(cast.secretary_user).get(pdf).status_code == 404  # not printed yet


def test_short_register_downloads_at_once(cast, term, client_for):
    many_resolutions(cast, term, n=3, tasks_each=0)
    page = client_for(cast.secretary_user).get(reverse("resolutions:register", args=[cast.cell_a.uid]))
    assert reverse("resolutions:register_pdf", args=[cast.cell_a.uid]) in page.content.decode()


def test_book_files_older_than_a_day_are_cleaned_and_newer_ones_kept(cast, tmp_path, settings):
    import datetime
    import os

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from resolutions.tasks import clean_register_books

    assert book_jobs.clean() == 0  # no folder yet: nothing to do
    old, new = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
    for job in (old, new):
        for extension in ("json", "pdf"):
            default_storage.save(f"{book_jobs.JOB_DIR}/{job}.{extension}", ContentFile(b"x"))
    two_days_ago = (timezone.now() - datetime.timedelta(hours=book_jobs.KEEP_HOURS + 24)).timestamp()
    for extension in ("json", "pdf"):
        os.utime(tmp_path / book_jobs.JOB_DIR / f"{old}.{extension}", (two_days_ago, two_days_ago))
    assert clean_register_books() == 2
    assert sorted(os.listdir(tmp_path / book_jobs.JOB_DIR)) == [f"{new}.json", f"{new}.pdf"]
    assert book_jobs.read(old) is None
    assert settings.CELERY_BEAT_SCHEDULE["register-books-clean"]["task"] == "resolutions.tasks.clean_register_books"

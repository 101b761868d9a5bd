"""Objects of cell A for tests/test_url_scope.py: the register's and the tasks' URLs."""

from resolutions import book_jobs
from resolutions.models import Resolution
from resolutions.services import tasks


def task_objects(cast, meeting) -> dict:
    """Call after resolution_objects(cast): it issues the resolution of cell A used here."""
    resolution = Resolution.objects.filter(unit=cast.cell_a).first()
    task = tasks.task_create(
        unit=cast.cell_a, text_="Nhiệm vụ", assignees=[cast.member], resolution=resolution, by=cast.secretary_user
    )
    t, u = {"uid": task.uid}, {"unit_uid": cast.cell_a.uid}
    job = {
        "unit_uid": cast.cell_a.uid,
        "job_id": book_jobs.start(user=cast.secretary_user, unit=cast.cell_a, params={}),
    }
    return {
        "resolutions:register": u,
        "resolutions:register_pdf": u,
        "resolutions:register_xlsx": u,
        "resolutions:register_book_start": u,
        "resolutions:register_book": job,
        "resolutions:register_book_pdf": job,
        "resolutions:unit_tasks": u,
        "resolutions:task_create": u,
        "resolutions:task": t,
        "resolutions:task_edit": t,
        "resolutions:task_progress": t,
        "resolutions:task_status": t,
        "resolutions:task_history": t,
        "resolutions:task_review": {"uid": task.uid, "meeting_uid": meeting.uid},
        "resolutions:resolution_tasks": {"uid": resolution.uid},
    }

"""Many issued resolutions and tasks at once for query-count tests (no PDF rendering, no services)."""

import datetime

from django.utils import timezone

from cells.text import fold
from resolutions.models import Draft, Resolution, Task, TaskProgressNote


def many_resolutions(cast, term, n: int = 110, tasks_each: int = 2) -> list[Resolution]:
    drafts = Draft.objects.bulk_create(
        Draft(
            unit=cast.cell_a,
            title=f"Nghị quyết số {i}",
            status=Draft.Status.ISSUED,
            passed_by="meeting",
            votes_for=2,
            votes_against=0,
            votes_other=0,
            voting_base=2,
        )
        for i in range(1, n + 1)
    )
    start = datetime.date(2025, 1, 1)
    resolutions = Resolution.objects.bulk_create(
        Resolution(
            draft=draft,
            unit=cast.cell_a,
            kind="NQ",
            term=term,
            number=i,
            number_label=f"Số {i:02d}-NQ/CB",
            issued_on=start + datetime.timedelta(days=3 * i),
            place_name="Tam Đảo",
            title=f"Nghị quyết sinh hoạt chi bộ đợt {i}",
            summary="Về nhiệm vụ tháng tới",
            body=f"## I. Đánh giá {{#danh-gia}}\nTốt.\n\n## II. Nhiệm vụ {{#nhiem-vu}}\n- Việc số {i}\n",
            search_text=fold(f"Nghị quyết sinh hoạt chi bộ đợt {i} Về nhiệm vụ tháng tới Việc số {i}"),
            signer_title="BÍ THƯ",
            signer_name=cast.secretary.full_name,
            passed_by="meeting",
            votes_for=2,
            votes_against=0,
            votes_other=0,
            voting_base=2,
            pdf="",
            pdf_sha256="0" * 64,
            issued_by=cast.secretary_user,
        )
        for i, draft in enumerate(drafts, start=1)
    )
    tasks = Task.objects.bulk_create(
        Task(
            unit=cast.cell_a,
            resolution=r,
            text=f"Việc {j} của nghị quyết {r.number}",
            due_on=r.issued_on + datetime.timedelta(days=30),
            status=Task.Status.DONE if j == 0 else Task.Status.IN_PROGRESS,
            order=j + 1,
        )
        for r in resolutions
        for j in range(tasks_each)
    )
    Task.assignees.through.objects.bulk_create(
        Task.assignees.through(task_id=t.pk, member_id=m.pk) for t in tasks for m in (cast.member, cast.secretary)
    )
    TaskProgressNote.objects.bulk_create(
        TaskProgressNote(task=t, author=cast.member, text=f"Đã làm {t.pk}", at=timezone.now()) for t in tasks
    )
    return resolutions

"""E-mail texts have English msgids and a complete Vietnamese translation; messages go out in
Vietnamese whatever language the person whose change planned them was using."""

import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from members.notifications.models import Notification
from members.notifications.planning import render_text
from members.notifications.registry import KINDS

from .conftest import at, parts

TEMPLATES = sorted(
    p.name.removesuffix(".txt")
    for p in (Path(settings.BASE_DIR) / "templates" / "emails" / "notifications").glob("*.txt")
)


def context(counter="absence", count=2):
    day = datetime.date(2026, 12, 10)
    return {
        "title": "Sinh hoạt chi bộ định kỳ tháng 12/2026 — Chi bộ Khu phố 1",
        "when": "08:00 10/12/2026",
        "days": 14,
        "unit": SimpleNamespace(name="Chi bộ Khu phố 1"),
        "meeting": SimpleNamespace(place="Hội trường", online_link="https://meet.example/x", cancel_reason="Mưa bão"),
        "draft": SimpleNamespace(title="Nghị quyết tháng 12"),
        "deadline": at(2026, 12, 5, 17),
        "member": SimpleNamespace(full_name="Nguyễn Văn Đức", admitted_on=datetime.date(2025, 12, 1)),
        "due_on": day,
        "task": SimpleNamespace(text="Vận động đóng góp quỹ khuyến học"),
        "counter": counter,
        "count": count,
        "year": 2026,
        "months": "10, 11",
        "month": 12,
        "day": 5,
    }


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_email_text_has_a_vietnamese_translation(template):
    for ctx in (context(), context(counter="dues", count=3)):
        with translation.override("en"):
            english = render_to_string(f"emails/notifications/{template}.txt", ctx)
        with translation.override("vi"):
            vietnamese = render_to_string(f"emails/notifications/{template}.txt", ctx)
        assert english != vietnamese
        # No English sentence left untranslated (every text is made of translated lines).
        for word in ("Dear", "Please", "meeting", "Member", "Task", "Comments", "month"):
            assert word not in vietnamese, (template, word, vietnamese)


def test_the_html_frame_is_translated_too():
    html = {}
    for language in ("en", "vi"):
        with translation.override(language):
            html[language] = render_to_string(
                "emails/notifications/base.html", {"subject": "S", "body": "B", "link": "https://x", "has_login": True}
            )
    assert 'lang="en"' in html["en"] and "Open in Chi bộ" in html["en"]
    assert 'lang="vi"' in html["vi"] and "Mở trên Chi bộ" in html["vi"] and "Cài đặt thông báo" in html["vi"]


def test_every_registered_kind_renders_in_vietnamese_even_from_an_english_session():
    with translation.override("en"):
        for kind in KINDS.values():
            subject, body = render_text(kind.template, context())
            assert body.startswith("Kính gửi"), (kind.key, body)
            assert subject and "Dear" not in subject


@time_machine.travel(at(2026, 12, 1, 9), tick=False)
def test_an_invitation_planned_from_an_english_page_goes_out_in_vietnamese(schedule, cast, mailoutbox):
    from members.notifications.delivery import send_due

    with translation.override("en"):  # the secretary uses the English interface
        meeting = schedule()
    row = Notification.objects.get(kind="meetings.scheduled", recipient=cast.member_user, channel="inbox")
    assert row.subject.startswith("Thông báo lịch họp: Sinh hoạt chi bộ định kỳ tháng 12/2026")
    assert "Thời gian: 08:00 ngày 10/12/2026" in row.body
    assert "Địa điểm: Nhà văn hóa khu phố 1" in row.body and "Kính gửi các đồng chí," in row.body
    with translation.override("en"):
        send_due()
    message = next(m for m in mailoutbox if m.to == ["duc@example.vn"])
    _parsed, found = parts(message.message().as_bytes())
    assert "Mở trên Chi bộ" in found["text/html"] and 'lang="vi"' in found["text/html"]
    assert "Lời mời lịch (tệp .ics) kèm theo" in found["text/plain"]
    assert meeting.pk == row.object_id

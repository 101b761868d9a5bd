"""Walks every URL pattern that takes an object id, as a member of another cell: always 404.

A new view with an id in its URL must be added to OBJECTS below, or this test fails: no
view can forget the scope check.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from members import services
from members.models import Position
from tests.resolutions.scope import resolution_objects
from tests.resolutions.scope_tasks import task_objects


def _walk(patterns, namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}", p


def object_urls():
    for name, pattern in _walk(get_resolver().url_patterns):
        if name.startswith("admin:"):
            continue  # the Django admin is for system administrators only (staff flag)
        converters = pattern.pattern.converters
        if any(type(c).__name__ in ("UUIDConverter", "IntConverter", "SlugConverter") for c in converters.values()):
            yield name, sorted(converters)


def _objects(cast):
    transfer = services.transfer_out(
        member=cast.member, to_cell=cast.cell_b, date=datetime.date.today(), by=cast.secretary_user
    )
    services.transfer_cancel(transfer=transfer, by=cast.secretary_user)
    position = Position.objects.get(unit=cast.cell_a, role=Position.Role.SECRETARY)
    m = _meeting_objects(cast)
    # name -> kwargs for an object of cell A (the outsider belongs to cell B)
    return {
        # meetings
        "meetings:calendar": {"unit_uid": cast.cell_a.uid},
        "meetings:schedule": {"unit_uid": cast.cell_a.uid},
        "meetings:detail": {"uid": m.meeting.uid},
        "meetings:edit": {"uid": m.meeting.uid},
        "meetings:cancel": {"uid": m.meeting.uid},
        "meetings:open": {"uid": m.meeting.uid},
        "meetings:finish": {"uid": m.meeting.uid},
        "meetings:ics": {"uid": m.meeting.uid},
        "meetings:agenda": {"uid": m.meeting.uid},
        "meetings:material_upload": {"uid": m.meeting.uid},
        "meetings:material": {"uid": m.material.uid},
        "meetings:material_delete": {"uid": m.material.uid},
        "meetings:attendance": {"uid": m.meeting.uid},
        "meetings:attendance_row": {"uid": m.meeting.uid, "member_uid": cast.member.uid},
        "meetings:guests": {"uid": m.meeting.uid},
        "meetings:guest_remove": {"uid": m.meeting.uid, "pk": m.guest.pk},
        "meetings:dues": {"uid": m.meeting.uid},
        "meetings:qr": {"uid": m.meeting.uid},
        "meetings:qr_code": {"uid": m.meeting.uid},
        "meetings:check_in": {"uid": m.meeting.uid},
        "meetings:member_attendance": {"uid": cast.member.uid},
        "meetings:minutes": {"uid": m.meeting.uid},
        "meetings:minutes_header": {"uid": m.meeting.uid},
        "meetings:item_save": {"uid": m.meeting.uid, "pk": m.item.pk},
        "meetings:speech_add": {"uid": m.meeting.uid, "pk": m.item.pk},
        "meetings:speech_remove": {"uid": m.meeting.uid, "pk": m.speech.pk},
        "meetings:vote_add": {"uid": m.meeting.uid},
        "meetings:vote_remove": {"uid": m.meeting.uid, "pk": m.vote.pk},
        "meetings:close": {"uid": m.meeting.uid},
        "meetings:addendum_add": {"uid": m.meeting.uid},
        "meetings:scan_upload": {"uid": m.meeting.uid},
        "meetings:minutes_pdf": {"uid": m.meeting.uid},
        "meetings:addendum_pdf": {"uid": m.addendum.uid},
        "meetings:scan": {"uid": m.meeting.uid},
        # members
        "members:detail": {"uid": cast.secretary.uid},
        "members:edit": {"uid": cast.secretary.uid},
        "members:status_period_create": {"uid": cast.secretary.uid},
        "members:transfer_out": {"uid": cast.secretary.uid},
        "members:move": {"uid": cast.secretary.uid},
        "members:end": {"uid": cast.secretary.uid},
        "members:account_slip": {"uid": cast.secretary.uid},
        "members:account_invite": {"uid": cast.secretary.uid},
        "members:account_disable": {"uid": cast.secretary.uid},
        "members:create": {"unit_uid": cast.cell_a.uid},
        "members:position_create": {"unit_uid": cast.cell_a.uid},
        "members:import_upload": {"unit_uid": cast.cell_a.uid},
        "members:import_template": {"unit_uid": cast.cell_a.uid},
        "members:import_mapping": {"unit_uid": cast.cell_a.uid, "token": "0" * 43},
        "members:import_preview": {"unit_uid": cast.cell_a.uid, "token": "0" * 43},
        "members:position_end": {"uid": position.uid},
        "members:transfer_detail": {"uid": transfer.uid},
        "members:transfer_accept": {"uid": transfer.uid},
        "members:transfer_cancel": {"uid": transfer.uid},
        "members:member_history": {"uid": cast.secretary.uid},
        "members:member_reads": {"uid": cast.secretary.uid},
        "members:unit_history": {"unit_uid": cast.cell_a.uid},
        # the secretary's notification about the meeting (another person's inbox is never visible)
        "members:inbox_open": {"uid": m.meeting_notification.uid},
        "members:inbox_read": {"uid": m.meeting_notification.uid},
        "cells:detail": {"uid": cast.cell_a.uid},
        # dashboards
        "dashboard:unit": {"uid": cast.cell_a.uid},
        "dashboard:at_risk": {"uid": cast.cell_a.uid},
        "dashboard:export": {"uid": cast.cell_a.uid, "fmt": "xlsx"},
        "dashboard:report": {"uid": cast.cell_a.uid},
        "dashboard:member": {"uid": cast.secretary.uid},
        "cells:create": {"uid": cast.cell_a.uid},
        "cells:edit": {"uid": cast.cell_a.uid},
        **resolution_objects(cast),
        **task_objects(cast, m.meeting),
    }


def _meeting_objects(cast):
    """A meeting of cell A with one of every kind of row a meeting URL can name."""
    from django.core.files.base import ContentFile

    from meetings import services as meeting_services
    from meetings.models import Addendum, Guest, Material, Speech, Vote

    meeting = meeting_services.meeting_schedule(
        unit=cast.cell_a, kind="regular", scheduled_start=timezone.now(), place="Hội trường", by=cast.secretary_user
    )
    item = meeting.agenda.first()
    material = Material(
        meeting=meeting,
        original_name="du-thao.pdf",
        content_type="application/pdf",
        size=4,
        sha256="0" * 64,
        uploaded_by=cast.secretary_user,
    )
    material.file.save("du-thao.pdf", ContentFile(b"%PDF"), save=True)
    return SimpleNamespace(
        meeting=meeting,
        item=item,
        material=material,
        guest=Guest.objects.create(meeting=meeting, name="Đại biểu"),
        speech=Speech.objects.create(item=item, member=cast.member, summary="Ý kiến"),
        vote=Vote.objects.create(meeting=meeting, subject="NQ", votes_for=1, voting_base=2),
        addendum=Addendum.objects.create(meeting=meeting, text="Đính chính", created_by=cast.secretary_user),
        meeting_notification=meeting_notification(meeting, cast.secretary_user),
    )


def meeting_notification(meeting, user):
    from members.notifications.delivery import deliver_inbox
    from members.notifications.models import Notification

    deliver_inbox(timezone.now())
    return Notification.objects.get(object_id=meeting.pk, recipient=user, channel="inbox", kind="meetings.scheduled")


@pytest.mark.django_db
def test_every_object_url_is_covered_by_this_test(cast):
    known = _objects(cast)
    missing = [name for name, _ in object_urls() if name not in known]
    assert not missing, f"add these URL names to OBJECTS in {__file__}: {missing}"


@pytest.mark.django_db
def test_member_of_other_cell_gets_404_on_every_object_url(cast, client):
    known = _objects(cast)
    client.force_login(cast.outsider_user)
    checked = 0
    for name, _ in object_urls():
        url = reverse(name, kwargs=known[name])
        # GET on a POST-only view is refused before any lookup (405, the same for any id).
        assert client.get(url).status_code in (404, 405), f"GET {name} {url}"
        assert client.post(url).status_code == 404, f"POST {name} {url}"
        checked += 1
    assert checked >= 18


@pytest.mark.django_db
def test_anonymous_user_is_sent_to_sign_in_on_every_object_url(cast, client):
    known = _objects(cast)
    for name, _ in object_urls():
        response = client.get(reverse(name, kwargs=known[name]))
        assert response.status_code in (302, 404, 405), name
        if response.status_code == 302:
            assert "/login/" in response["Location"]

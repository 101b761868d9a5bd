"""The meetings admin: every model with history; a closed meeting and its rows are read-only there
too; addenda are add-only and go through the service."""

import datetime

import pytest
from django.contrib import admin
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone

from meetings.models import Addendum, AgendaItem, Attendance, Guest, Material, Meeting, Speech, Vote
from tests.factories import UserFactory

MODELS = [Meeting, AgendaItem, Speech, Attendance, Guest, Vote, Material, Addendum]
ROWS = [AgendaItem, Speech, Attendance, Guest, Vote]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def meeting(cast, schedule):
    """A meeting with one row of every kind."""
    meeting = schedule()
    item = meeting.agenda.first()
    Speech.objects.create(item=item, member=cast.member, summary="Nhất trí với báo cáo")
    Attendance.objects.create(meeting=meeting, member=cast.member, status="present", is_full=True)
    Guest.objects.create(meeting=meeting, name="Đồng chí Đặng Minh Tuấn", title="Đảng ủy viên phường")
    Vote.objects.create(meeting=meeting, subject="Nghị quyết tháng 3", votes_for=2, voting_base=2)
    Material.objects.create(
        meeting=meeting,
        original_name="du-thao.pdf",
        content_type="application/pdf",
        size=5,
        sha256="0" * 64,
        uploaded_by=cast.secretary_user,
        file="materials/x.pdf",
    )
    return meeting


def _close(meeting):
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CLOSED)
    Addendum.objects.create(meeting=meeting, text="Đính chính tên người phát biểu", created_by=meeting.created_by)
    meeting.refresh_from_db()


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _row(model, meeting):
    if model is Speech:
        return Speech.objects.get(item__meeting=meeting)
    return model.objects.filter(meeting=meeting).first()


def test_every_meetings_model_is_registered():
    assert {m for m in admin.site._registry if m._meta.app_label == "meetings"} == set(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_change_and_history_pages_load(client, superuser, meeting, model):
    _close(meeting)
    client.force_login(superuser)
    assert client.get(_url(model, "changelist")).status_code == 200
    assert client.get(_url(model, "changelist"), {"q": "Khu phố"}).status_code == 200
    obj = model._default_manager.first()
    assert client.get(_url(model, "change", obj.pk)).status_code == 200
    if hasattr(model, "history"):
        assert client.get(_url(model, "history", obj.pk)).status_code == 200


def test_closed_meeting_change_view_refuses_a_post(client, superuser, meeting):
    _close(meeting)
    client.force_login(superuser)
    url = _url(Meeting, "change", meeting.pk)
    page = client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert client.post(url, {"place": "Nơi khác"}).status_code == 403
    assert client.post(_url(Meeting, "delete", meeting.pk), {"post": "yes"}).status_code == 403
    meeting.refresh_from_db()
    assert meeting.place == "Nhà văn hóa khu phố 1"


@pytest.mark.parametrize("model", ROWS, ids=lambda m: m.__name__)
def test_rows_of_a_closed_meeting_are_read_only(client, superuser, meeting, model):
    _close(meeting)
    row = _row(model, meeting)
    client.force_login(superuser)
    assert client.post(_url(model, "change", row.pk), {}).status_code == 403
    assert client.post(_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", ROWS, ids=lambda m: m.__name__)
def test_rows_of_an_open_meeting_may_be_corrected(client, superuser, meeting, model):
    row = _row(model, meeting)
    client.force_login(superuser)
    page = client.get(_url(model, "change", row.pk))
    assert page.context["has_change_permission"] and page.context["has_delete_permission"]


def test_reverting_a_closed_meeting_to_an_old_version_is_refused(client, superuser, meeting):
    old = meeting.history.earliest()
    _close(meeting)
    Meeting.objects.get(pk=meeting.pk).save()  # a history row for the closed state
    client.force_login(superuser)
    url = reverse("admin:meetings_meeting_simple_history", args=[meeting.pk, old.history_id])
    assert client.post(url, {"place": "Nơi khác"}).status_code == 403
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CLOSED


def test_no_new_rows_are_attached_to_a_closed_meeting(client, superuser, meeting):
    _close(meeting)
    client.force_login(superuser)
    form = client.get(_url(Guest, "add")).context["adminform"].form
    assert meeting not in form.fields["meeting"].queryset
    response = client.post(_url(Guest, "add"), {"meeting": meeting.pk, "name": "Khách", "is_higher_delegate": "on"})
    assert response.status_code == 200 and "meeting" in response.context["adminform"].form.errors


def test_changing_time_in_the_admin_moves_the_revision(client, superuser, meeting):
    client.force_login(superuser)
    url = _url(Meeting, "change", meeting.pk)
    page = client.get(url)
    data = {}
    for form in [page.context["adminform"].form] + [
        f
        for inline in page.context["inline_admin_formsets"]
        for f in [inline.formset.management_form, *inline.formset.forms]
    ]:
        for field in form:
            value = field.value()
            if value is None or value is False or isinstance(value, FieldFile):
                continue
            if isinstance(value, datetime.datetime):  # the admin's split date and time inputs
                local = timezone.localtime(value)
                data[f"{field.html_name}_0"], data[f"{field.html_name}_1"] = f"{local:%d/%m/%Y}", f"{local:%H:%M}"
                continue
            data[field.html_name] = "on" if value is True else value
    data.update({"place": "Hội trường UBND phường"})
    data.pop("presenters", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    meeting.refresh_from_db()
    assert meeting.place == "Hội trường UBND phường" and meeting.revision == 1


def test_meetings_are_scheduled_in_the_app_not_the_admin(client, superuser):
    client.force_login(superuser)
    assert client.get(_url(Meeting, "add")).status_code == 403
    assert client.get(_url(Material, "add")).status_code == 403


def test_addenda_are_add_only(client, superuser, meeting):
    _close(meeting)
    addendum = Addendum.objects.get()
    client.force_login(superuser)
    assert client.post(_url(Addendum, "change", addendum.pk), {"text": "Sửa lại"}).status_code == 403
    assert client.post(_url(Addendum, "delete", addendum.pk), {"post": "yes"}).status_code == 403
    form = client.get(_url(Addendum, "add")).context["adminform"].form
    assert list(form.fields["meeting"].queryset) == [meeting]


def test_addendum_added_in_the_admin_is_rendered_and_hashed(client, superuser, meeting, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _close(meeting)
    client.force_login(superuser)
    response = client.post(_url(Addendum, "add"), {"meeting": meeting.pk, "text": "Bổ sung ý kiến của đồng chí Đức"})
    assert response.status_code == 302
    added = Addendum.objects.get(text="Bổ sung ý kiến của đồng chí Đức")
    assert added.created_by == superuser and len(added.sha256) == 64 and added.pdf

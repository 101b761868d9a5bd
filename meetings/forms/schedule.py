"""Forms for scheduling meetings, their agenda and materials. Rules stay in meetings.services;
these only turn phone-friendly inputs (a date, a time, checkboxes) into the service's arguments."""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cells.models import PartyUnit
from members.models import Member, Membership

from ..models import Meeting
from ..uploads import ACCEPT, MAX_MATERIAL_BYTES

MONTHS = [(m, _("Month %(m)s") % {"m": m}) for m in range(1, 13)]
# simple_history keeps a change reason of at most 100 characters.
REASON_MAX_LENGTH = 100


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


def roll_members(cell: PartyUnit, day: datetime.date):
    """Members on the cell's roll on a day (own members and those temporarily attached)."""
    return (
        Member.objects.filter(
            Q(memberships__in=Membership.objects.filter(Membership.active_on(day), cell=cell))
            | Q(attachments__cell=cell, attachments__start__lte=day)
            & (Q(attachments__end__isnull=True) | Q(attachments__end__gt=day))
        )
        .filter(ended_on__isnull=True)
        .distinct()
        .order_by("search_name")
    )


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of meeting"), choices=Meeting.Kind.choices, widget=forms.RadioSelect)
    period_month = forms.TypedChoiceField(
        label=_("For the month"),
        choices=[("", _("The month of the date"))] + MONTHS,
        coerce=int,
        empty_value=None,
        required=False,
    )
    period_year = forms.IntegerField(
        label=_("Year"),
        required=False,
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    combined_thematic = forms.BooleanField(
        label=_("Combined with a thematic session"),
        required=False,
        help_text=_("The meeting then lasts at least 120 minutes."),
    )
    topic = forms.CharField(label=_("Topic"), max_length=300, required=False)
    presenters = forms.ModelMultipleChoiceField(
        label=_("Presenters"),
        queryset=Member.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The members who present the topic."),
    )
    date = forms.DateField(label=_("Date"), widget=DateInput())
    time = forms.TimeField(label=_("Start time"), widget=TimeInput())
    planned_minutes = forms.IntegerField(
        label=_("Planned duration (minutes)"),
        min_value=15,
        max_value=720,
        initial=120,
        help_text=_("At least 90 minutes; 120 when combined with a thematic session."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 15}),
    )
    place = forms.CharField(label=_("Place"), max_length=200)
    online_link = forms.URLField(
        label=_("Online link"),
        required=False,
        assume_scheme="https",
        help_text=_("For members who work away; attending online counts as present."),
    )

    def __init__(self, *args, cell: PartyUnit, meeting: Meeting | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell, self.meeting = cell, meeting
        day = timezone.localdate(meeting.scheduled_start) if meeting else timezone.localdate()
        members = roll_members(cell, day)
        if meeting is not None:
            # A presenter who has since left the roll stays on the meeting unless unticked.
            members = Member.objects.filter(Q(pk__in=members.values("pk")) | Q(presented_meetings=meeting))
            members = members.distinct().order_by("search_name")
        self.fields["presenters"].queryset = members

    def clean(self):
        data = super().clean()
        day, time = data.get("date"), data.get("time")
        if day and time:
            start = timezone.make_aware(datetime.datetime.combine(day, time), timezone.get_current_timezone())
            data["scheduled_start"] = start
        if data.get("kind") == Meeting.Kind.REGULAR:
            month, year = data.get("period_month"), data.get("period_year")
            if year and not month:
                self.add_error("period_month", _("Choose the month, or leave both empty for the month of the date."))
            elif day and not month:
                data["period_month"], data["period_year"] = day.month, day.year
            elif month and not year and day:
                data["period_year"] = day.year
        else:
            data["period_month"] = data["period_year"] = None
            data["combined_thematic"] = False
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        names = ("kind", "combined_thematic", "period_year", "period_month", "topic", "planned_minutes", "place")
        fields = {name: data[name] for name in names}
        fields["topic"] = fields["topic"].strip()
        fields["place"] = fields["place"].strip()
        fields["online_link"] = data.get("online_link") or ""
        fields["scheduled_start"] = data["scheduled_start"]
        return fields


class MeetingEditForm(MeetingForm):
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text=_("Needed when the date or time changes; kept in the meeting's history."),
    )

    def __init__(self, *args, meeting: Meeting, **kwargs):
        super().__init__(*args, meeting=meeting, **kwargs)
        # The agenda was drawn up for the kind; another kind is another meeting (cancel and schedule).
        self.fields["kind"].disabled = True

    def clean(self):
        data = super().clean()
        start = data.get("scheduled_start")
        if start and start != self.meeting.scheduled_start and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for moving the meeting; members will be told of the change."))
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to the members on the meeting's page."),
    )


class AgendaItemAddForm(forms.Form):
    title = forms.CharField(label=_("New item"), max_length=300)


class AgendaItemRenameForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=300)


class MaterialForm(forms.Form):
    file = forms.FileField(
        label=_("Material"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext("PDF, Word (.docx), Excel (.xlsx), JPEG or PNG, up to %(size)s.") % {
            "size": filesizeformat(MAX_MATERIAL_BYTES)
        }

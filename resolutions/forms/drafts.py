"""Forms for drafts, comments, responses, votes and issuing. Rules stay in resolutions.services;
these only turn phone-friendly inputs (a date and a time, radio buttons) into the services' arguments."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from meetings.models import Meeting, Vote

from ..models import ConsultationVote, DocumentKind, Draft, Resolution, Response


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


BODY_HELP = _(
    "Markdown: start each section on its own line with ## and its heading, e.g. "
    "“## I. Assessment”. The {#key} after a heading keeps comments attached to that section "
    "in later versions: leave it in place."
)


def cell_meetings(unit):
    """The cell's meetings that can vote on a resolution, newest first."""
    return (
        Meeting.objects.filter(unit=unit)
        .exclude(kind=Meeting.Kind.COMMITTEE)
        .exclude(status=Meeting.Status.CANCELLED)
        .order_by("-scheduled_start")
    )


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        local = timezone.localtime(obj.scheduled_start)
        return f"{local:%d/%m/%Y} — {obj.get_kind_display()}{f': {obj.topic}' if obj.topic else ''}"


class DraftForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=DocumentKind.choices, initial=DocumentKind.RESOLUTION, widget=forms.RadioSelect
    )
    title = forms.CharField(label=_("Title"), max_length=300)
    summary = forms.CharField(
        label=_("Summary line"), max_length=500, required=False, help_text=_("Printed under the title.")
    )
    is_written_consultation = forms.BooleanField(
        label=_("Written consultation (the cell cannot meet: members vote in writing)"), required=False
    )
    meeting = MeetingChoiceField(
        label=_("Meeting that votes on it"), queryset=Meeting.objects.none(), required=False, empty_label=_("Not yet")
    )
    comment_visibility = forms.ChoiceField(
        label=_("Who sees others' comments"), choices=Draft.Visibility.choices, widget=forms.RadioSelect
    )
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 18, "class": "font-monospace"}), help_text=BODY_HELP
    )

    def __init__(self, *args, unit, with_body: bool = True, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("comment_visibility", Draft.Visibility.ALL_MEMBERS)
        super().__init__(*args, **kwargs)
        # A draft is voted on within the year; older meetings would only lengthen the list.
        since = timezone.now() - datetime.timedelta(days=400)
        self.fields["meeting"].queryset = cell_meetings(unit).filter(scheduled_start__gte=since)
        if not with_body:
            del self.fields["body"]

    def clean(self):
        data = super().clean()
        if data.get("is_written_consultation") and data.get("meeting"):
            self.add_error("meeting", _("A written consultation is not tied to a meeting."))
        return data

    def service_fields(self) -> dict:
        names = ("kind", "title", "summary", "is_written_consultation", "meeting", "comment_visibility")
        return {name: self.cleaned_data[name] for name in names}


class VersionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    summary = forms.CharField(label=_("Summary line"), max_length=500, required=False)
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 22, "class": "font-monospace"}), help_text=BODY_HELP
    )
    change_note = forms.CharField(
        label=_("What changed"),
        max_length=500,
        required=False,
        help_text=_("For example: comments of comrades A and B taken into section II."),
    )


class DeadlineForm(forms.Form):
    """A deadline as a date and a time, in the site's time zone, in the future."""

    date = forms.DateField(label=_("Date"), widget=DateInput())
    time = forms.TimeField(label=_("Time"), widget=TimeInput(), initial=datetime.time(17, 0))

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("time"):
            moment = timezone.make_aware(datetime.datetime.combine(data["date"], data["time"]))
            if moment <= timezone.now():
                raise forms.ValidationError(_("The deadline must be in the future."))
            data["deadline"] = moment
        return data


class OpenCommentsForm(DeadlineForm):
    visibility = forms.ChoiceField(
        label=_("Who sees others' comments"), choices=Draft.Visibility.choices, widget=forms.RadioSelect
    )


class CommentForm(forms.Form):
    section_key = forms.ChoiceField(label=_("Comment on"), required=False)
    text = forms.CharField(label=_("Your comment"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10_000)

    def __init__(self, *args, sections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section_key"].choices = [("", _("The whole draft"))] + [
            (s.key, s.heading) for s in sections if s.heading
        ]


class CommentEditForm(forms.Form):
    text = forms.CharField(label=_("Your comment"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10_000)


class ResponseForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Response.Decision.choices, widget=forms.RadioSelect)
    explanation = forms.CharField(
        label=_("Explanation"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Required unless the comment is accepted."),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") and data["decision"] != Response.Decision.ACCEPTED:
            if not (data.get("explanation") or "").strip():
                self.add_error("explanation", _("Explain why the comment is not (fully) accepted."))
        return data


class VoteForm(forms.Form):
    choice = forms.ChoiceField(label=_("Your vote"), choices=ConsultationVote.Choice.choices, widget=forms.RadioSelect)
    text = forms.CharField(
        label=_("Opinion (optional)"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000
    )


class VoteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        local = timezone.localtime(obj.meeting.scheduled_start)
        counts = f"{obj.votes_for}/{obj.votes_against}/{obj.votes_other}"
        return f"{local:%d/%m/%Y} — {obj.subject}: {counts} ({obj.voting_base})"


class MeetingVoteForm(forms.Form):
    vote = VoteChoiceField(label=_("Vote recorded in the minutes"), queryset=Vote.objects.none())

    def __init__(self, *args, draft: Draft, **kwargs):
        super().__init__(*args, **kwargs)
        votes = Vote.objects.filter(meeting__in=cell_meetings(draft.unit), draft__isnull=True).select_related("meeting")
        if draft.meeting_id:
            votes = votes.filter(meeting_id=draft.meeting_id)
        self.fields["vote"].queryset = votes.order_by("-meeting__scheduled_start", "order")


class AmendsChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number_label} — {obj.title}"


class IssueForm(forms.Form):
    issued_on = forms.DateField(label=_("Date of issue"), widget=DateInput())
    recipients = forms.CharField(
        label=_("Recipients (Nơi nhận)"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )
    amends = AmendsChoiceField(
        label=_("Amends an earlier resolution"),
        queryset=Resolution.objects.none(),
        required=False,
        empty_label=_("No"),
    )
    supersedes = forms.BooleanField(label=_("Replaces it entirely"), required=False)

    def __init__(self, *args, draft: Draft, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amends"].queryset = Resolution.objects.filter(unit=draft.unit).order_by("-issued_on", "-number")

    def clean(self):
        data = super().clean()
        if data.get("supersedes") and not data.get("amends"):
            self.add_error("amends", _("Choose the resolution this one replaces."))
        return data

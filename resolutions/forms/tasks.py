"""Forms for tasks, progress reports and the meeting's review. Rules stay in services/tasks.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Task
from ..services import tasks as services
from .drafts import DateInput


class TaskForm(forms.Form):
    text = forms.CharField(
        label=_("Task"), widget=forms.Textarea(attrs={"rows": 3}), max_length=services.TEXT_MAX, required=False
    )
    assignees = forms.ModelMultipleChoiceField(
        label=_("Assignees"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    assigned_to_committee = forms.BooleanField(label=_("Given to the committee"), required=False)
    due_on = forms.DateField(label=_("Due date"), required=False, widget=DateInput())

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignees"].queryset = services.members_of(unit)
        self.fields["assignees"].label_from_instance = lambda m: m.full_name

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "text_": data["text"],
            "due_on": data["due_on"],
            "assignees": list(data["assignees"]),
            "assigned_to_committee": data["assigned_to_committee"],
        }


class TaskItemForm(TaskForm):
    """One parsed line of the tasks section; unticking `keep` drops it."""

    keep = forms.BooleanField(label=_("Keep"), required=False, initial=True)


class ProgressForm(forms.Form):
    text = forms.CharField(
        label=_("Progress"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("What has been done, what remains")}),
        max_length=services.NOTE_MAX,
        required=False,
    )
    status = forms.ChoiceField(label=_("Status"), choices=Task.Status.choices, required=False)


class ReviewForm(forms.Form):
    assessment = forms.CharField(
        label=_("The meeting's assessment"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=services.NOTE_MAX,
        required=False,
    )

from django import forms
from django.forms.models import construct_instance
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.forms.records import DateInput, MemberCreateForm


class ImportRowForm(MemberCreateForm):
    """The member form's fields and rules, applied to one spreadsheet row.

    What needs the database — the card number being unique, the party group, the check constraint
    on the dates (Member.clean enforces it more strictly) — is checked once for the whole file in
    members.imports, so a preview of 2,000 rows costs the same few queries as one of 10.
    """

    def __init__(self, *args, cell=None, **kwargs):
        # Skips MemberForm.__init__, whose only work is the group queryset (a query per row).
        forms.ModelForm.__init__(self, *args, **kwargs)
        del self.fields["group"]

    def validate_unique(self):
        pass

    def _post_clean(self):
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields)
        except forms.ValidationError as exc:
            self._update_errors(exc)
        try:
            self.instance.full_clean(
                exclude=self._get_validation_exclusions(), validate_unique=False, validate_constraints=False
            )
        except forms.ValidationError as exc:
            self._update_errors(exc)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    joined_on = forms.DateField(
        label=_("On this cell's roll from"),
        widget=DateInput(),
        initial=timezone.localdate,
        help_text=_("For rows without their own date. A member admitted later joins the roll on the day of admission."),
    )

    def clean_file(self):
        from members.imports import MAX_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


class MappingForm(forms.Form):
    """One choice per field: which column of the file holds it."""

    def __init__(self, *args, sheet, fields, **kwargs):
        super().__init__(*args, **kwargs)
        self.sheet = sheet
        choices = [("", _("— not in the file —"))]
        for index in range(sheet.width):
            sample = sheet.sample(index)
            label = sheet.column_label(index)
            choices.append((str(index), f"{label} — {sample}" if sample else label))
        for f in fields:
            self.fields[f.key] = forms.TypedChoiceField(
                label=f.label,
                choices=choices,
                required=f.required,
                coerce=int,
                empty_value=None,
                error_messages={"required": _("Choose the column that holds this.")},
            )

    def clean(self):
        data = super().clean()
        used: dict[int, str] = {}
        for key, index in list(data.items()):
            if index is None:
                continue
            if index in used:
                self.add_error(key, _("This column is already chosen for “%(field)s”.") % {"field": used[index]})
            else:
                used[index] = self.fields[key].label
        return data

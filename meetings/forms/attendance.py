"""Forms of the attendance, guests and dues pages. The rows are hand-written HTML (STACK-NOTES
"Pages": widgets per row cost 3×); these forms only read and check what a row posts."""

from django import forms
from django.utils.translation import gettext_lazy as _

from meetings.models import Attendance, Guest

DEFAULT_DUES_AMOUNT = 10_000  # VND; the page lets the committee set another for the meeting


class AttendanceRowForm(forms.Form):
    """One member's row; prefixed with the member's uid, so a post carrying other rows' fields
    (the page's rows share one form element) reads only its own."""

    status = forms.ChoiceField(choices=Attendance.Status.choices, required=False)
    # The late toggle keeps the status and flips only the flag: "1" late, "0" on time.
    late = forms.ChoiceField(choices=[("1", "1"), ("0", "0")], required=False)
    reason = forms.CharField(max_length=200, required=False, strip=True)
    reason_approved = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if not data.get("status") and not data.get("late"):
            raise forms.ValidationError(_("Choose an attendance status."))
        return data


class GuestForm(forms.ModelForm):
    class Meta:
        model = Guest
        fields = ["name", "title", "is_higher_delegate"]
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
            "title": forms.TextInput(attrs={"autocomplete": "off"}),
        }


class DuesRowForm(forms.Form):
    """One member's dues for the meeting's month: paid ("1") with an amount, or not paid ("0")."""

    paid = forms.ChoiceField(choices=[("1", "1"), ("0", "0")])
    amount = forms.IntegerField(min_value=1, max_value=100_000_000, required=False, label=_("amount (VND)"))

    def clean(self):
        data = super().clean()
        if data.get("paid") == "1" and not data.get("amount"):
            self.add_error("amount", _("Enter the amount paid."))
        return data


class DuesDefaultForm(forms.Form):
    default = forms.IntegerField(
        min_value=1, max_value=100_000_000, initial=DEFAULT_DUES_AMOUNT, label=_("Default amount (VND)")
    )

"""Forms of the minutes page: header, speeches, votes, addenda and the signed scan."""

from django import forms
from django.utils.translation import gettext_lazy as _

CHOOSE = _("— choose —")
SCAN_MAX_BYTES = 20 * 1024 * 1024
# Checked on the first bytes, not on the name or the browser's content type.
SCAN_MAGIC = (
    (b"%PDF-", ".pdf"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class MemberChoiceField(forms.TypedChoiceField):
    """A member from a list the view already loaded: one query for every select on the page
    (a ModelChoiceField queries again for each form it renders in)."""

    def __init__(self, *, empty_label=CHOOSE, **kwargs):
        super().__init__(coerce=int, empty_value=None, **kwargs)
        self.empty_label = empty_label
        self.members = {}

    def set_members(self, members) -> None:
        self.members = {m.pk: m for m in members}
        self.choices = [("", self.empty_label), *((m.pk, m.full_name) for m in members)]

    def prepare_value(self, value):
        return getattr(value, "pk", value)

    def clean(self, value):
        pk = super().clean(value)
        return None if pk is None else self.members[pk]


class MinutesHeaderForm(forms.Form):
    chair = MemberChoiceField(required=False, label=_("Chair"))
    minutes_secretary = MemberChoiceField(required=False, label=_("Minutes secretary"))
    actual_start = forms.DateTimeField(required=False, label=_("Actual start"), widget=DateTimeInput())
    actual_end = forms.DateTimeField(required=False, label=_("Actual end"), widget=DateTimeInput())

    def __init__(self, *args, roll, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chair"].set_members(roll)
        self.fields["minutes_secretary"].set_members(roll)

    def clean(self):
        data = super().clean()
        start, end = data.get("actual_start"), data.get("actual_end")
        if start and end and end <= start:
            self.add_error("actual_end", _("The meeting must end after it starts."))
        return data


class SpeechForm(forms.Form):
    member = MemberChoiceField(required=False, label=_("Speaker"), empty_label=_("— a guest (write the name) —"))
    speaker_name = forms.CharField(
        required=False,
        max_length=120,
        label=_("Guest's name"),
        widget=forms.TextInput(attrs={"list": "guest-names", "autocomplete": "off"}),
    )
    summary = forms.CharField(label=_("Opinion"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, roll, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].set_members(roll)

    def clean(self):
        data = super().clean()
        if data.get("member"):
            data["speaker_name"] = ""
        elif not (data.get("speaker_name") or "").strip():
            self.add_error("member", _("Choose the speaker, or write a guest's name."))
        return data


def _count_field(label, **kwargs):
    widget = forms.NumberInput(attrs={"inputmode": "numeric", "min": 0})
    return forms.IntegerField(min_value=0, max_value=9999, label=label, widget=widget, **kwargs)


class VoteForm(forms.Form):
    subject = forms.CharField(max_length=300, label=_("Voted on"), help_text=_("E.g. the resolution of the month."))
    votes_for = _count_field(_("For"))
    votes_against = _count_field(_("Against"), initial=0)
    votes_other = _count_field(_("Other"), initial=0)


class AddendumForm(forms.Form):
    text = forms.CharField(
        label=_("Correction"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What the minutes should have said. The addendum is dated and archived with the minutes."),
    )


class SignedScanForm(forms.Form):
    scan = forms.FileField(label=_("Signed paper copy"), help_text=_("A PDF, JPEG or PNG file of at most 20 MB."))

    def clean_scan(self):
        upload = self.cleaned_data["scan"]
        if upload.size > SCAN_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        upload.seek(0)
        head = upload.read(16)
        upload.seek(0)
        suffix = next((s for magic, s in SCAN_MAGIC if head.startswith(magic)), None)
        if suffix is None:
            raise forms.ValidationError(_("Upload a PDF, JPEG or PNG file."))
        # The stored name follows the content, whatever the file was called.
        upload.name = f"scan{suffix}"
        return upload

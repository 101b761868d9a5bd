from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cells.models import PartyUnit
from members.models import Member, Position, StatusPeriod, Transfer


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class MemberForm(forms.ModelForm):
    group = forms.ModelChoiceField(queryset=PartyUnit.objects.none(), required=False, label=_("Party group"))

    class Meta:
        model = Member
        fields = [
            "full_name",
            "gender",
            "birth_date",
            "card_number",
            "admitted_on",
            "full_member_on",
            "phone",
            "email",
            "works_away",
        ]
        widgets = {
            "birth_date": DateInput(),
            "admitted_on": DateInput(),
            "full_member_on": DateInput(),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        }

    def __init__(self, *args, cell: PartyUnit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = PartyUnit.objects.filter(parent=cell, kind=PartyUnit.Kind.GROUP)
        if not self.fields["group"].queryset.exists():
            del self.fields["group"]
        self.fields["card_number"].error_messages["unique"] = _("Another member already has this party card number.")

    def clean_card_number(self):
        value = (self.cleaned_data.get("card_number") or "").strip().upper()
        return value or None


class MemberCreateForm(MemberForm):
    joined_on = forms.DateField(
        label=_("On this cell's roll from"),
        widget=DateInput(),
        initial=timezone.localdate,
        help_text=_("Usually the day the member was admitted or transferred in."),
    )

    def clean(self):
        data = super().clean()
        joined, admitted = data.get("joined_on"), data.get("admitted_on")
        if joined and admitted and joined < admitted:
            self.add_error("joined_on", _("A member cannot be on the roll before being admitted to the party."))
        return data


class StatusPeriodForm(forms.ModelForm):
    class Meta:
        model = StatusPeriod
        fields = ["kind", "start", "end", "reason"]
        widgets = {"start": DateInput(), "end": DateInput()}


class TransferOutForm(forms.ModelForm):
    to_cell = forms.ModelChoiceField(
        queryset=PartyUnit.objects.none(),
        required=False,
        label=_("Receiving cell"),
        help_text=_("Leave empty when the member moves to an organisation that does not use Chi bộ."),
    )

    class Meta:
        model = Transfer
        fields = ["to_cell", "destination_text", "date", "reason"]
        widgets = {"date": DateInput()}

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["to_cell"].queryset = (
            PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL)
            .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=today))
            .exclude(pk=member.home_unit_id)
            .select_related("parent")
            .order_by("path")
        )
        self.fields["to_cell"].label_from_instance = lambda u: (
            f"{u.name} — {u.parent.display_name}" if u.parent else u.name
        )
        self.fields["date"].initial = today

    def clean(self):
        data = super().clean()
        if not data.get("to_cell") and not (data.get("destination_text") or "").strip():
            raise forms.ValidationError(_("Choose the receiving cell or name the destination outside the system."))
        return data


class MoveForm(forms.Form):
    to_cell = forms.ModelChoiceField(queryset=PartyUnit.objects.none(), label=_("Move to cell"))
    date = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, cells, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_cell"].queryset = cells


class AcceptTransferForm(forms.Form):
    group = forms.ModelChoiceField(queryset=PartyUnit.objects.none(), required=False, label=_("Party group"))

    def __init__(self, *args, cell: PartyUnit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = PartyUnit.objects.filter(parent=cell, kind=PartyUnit.Kind.GROUP)


class MemberEndForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    reason = forms.ChoiceField(label=_("Reason"), choices=Member.EndReason.choices)
    confirm = forms.BooleanField(
        label=_("I understand that the member leaves the rolls and the login is disabled."), required=True
    )


class PositionForm(forms.ModelForm):
    class Meta:
        model = Position
        fields = ["role", "member", "start", "end"]
        widgets = {"start": DateInput(), "end": DateInput()}

    def __init__(self, *args, members, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["member"].required = True
        self.fields["role"].choices = [(r.value, r.label) for r in roles]
        self.fields["start"].initial = timezone.localdate()


class PositionEndForm(forms.Form):
    end = forms.DateField(label=_("Last day in the position"), widget=DateInput(), initial=timezone.localdate)

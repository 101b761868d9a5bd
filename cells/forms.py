from django import forms
from django.utils.translation import gettext_lazy as _

from cells.models import PartyUnit


class UnitForm(forms.ModelForm):
    class Meta:
        model = PartyUnit
        fields = [
            "kind",
            "unit_type",
            "name",
            "short_name",
            "document_symbol",
            "place_name",
            "founded_on",
            "dissolved_on",
        ]
        widgets = {
            "founded_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "dissolved_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, parent: PartyUnit | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent = parent
        allowed = [
            k for k, parents in PartyUnit.ALLOWED_PARENTS.items() if (parent.kind if parent else None) in parents
        ]
        self.fields["kind"].choices = [(k.value, k.label) for k in PartyUnit.Kind if k in allowed]
        self.fields["name"].widget.attrs["placeholder"] = _("e.g. Chi bộ Tổ dân phố 3")

    def clean(self):
        data = super().clean()
        self.instance.parent = self.parent
        return data

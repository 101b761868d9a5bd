from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from members.models import User


class SignInForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Card number, phone or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    error_messages = {
        "invalid_login": _("The sign-in name or the password is wrong. Passwords are case-sensitive."),
        "inactive": _("This login is disabled. Ask your cell secretary."),
    }


class ActivationForm(forms.Form):
    identifier = forms.CharField(
        label=_("Card number, phone or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    code = forms.CharField(
        label=_("Activation code"),
        max_length=20,
        help_text=_("The code on your slip or in the invitation e-mail, e.g. ABCD-2345."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two passwords differ."))
        return cleaned

    def check_password_for(self, user: User) -> bool:
        """Run the password validators against the member-to-be; errors go on the password field."""
        try:
            validate_password(self.cleaned_data["new_password1"], user)
        except ValidationError as exc:
            self.add_error("new_password1", exc)
            return False
        return True


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) in (6, 8)):
            raise ValidationError(_("Enter the 6 digits your app shows."))
        return code

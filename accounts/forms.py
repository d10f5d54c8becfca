from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError

from accounts import limits, services
from accounts.names import NameFormField


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    full_name = NameFormField(max_length=200, required=False)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Confirm password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords do not match.")
        return cleaned

    def save(self):
        """Register through the service; its field errors land on this form."""
        try:
            return services.user_register(
                email=self.cleaned_data["email"],
                password=self.cleaned_data["password1"],
                full_name=self.cleaned_data["full_name"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                self.add_error("password1", exc)
            return None


class ProfileForm(forms.Form):
    full_name = NameFormField(max_length=200, required=False)


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the mail is built and sent by a background task."""

    def save(self, *args, **kwargs) -> None:
        services.password_reset_request(email=self.cleaned_data["email"])


class LoginLimitMixin:
    """Says "locked out, try again in N minutes" instead of "wrong password" during a lockout.

    LoginLimitBackend refuses the attempt and leaves the wait on the request; without this the form
    would blame the password, and a person who then types the right one would be refused again.
    """

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            wait = getattr(self.request, "login_retry_after", None)
            if wait is not None:
                raise ValidationError(limits.login_locked_message(wait), code="locked_out") from None
            raise


class LimitedAuthenticationForm(LoginLimitMixin, AuthenticationForm):
    pass


class LimitedAdminAuthenticationForm(LoginLimitMixin, AdminAuthenticationForm):
    pass


class CertificateNameForm(forms.Form):
    """The name a certificate is issued to: required, and not an email address."""

    # Normalised before it is validated: max_length counts what is stored, and a name of only invisible
    # characters is empty, so required.
    full_name = NameFormField(
        max_length=200, label="Your full name", help_text="As it should appear on your certificate."
    )

    def clean_full_name(self) -> str:
        name = self.cleaned_data["full_name"]
        if "@" in name:
            raise forms.ValidationError("Enter your name, not an email address.")
        return name

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts import limits, services
from accounts.forms import LimitedAuthenticationForm, ProfileForm, QueuedPasswordResetForm, SignupForm


def safe_next(request, default: str) -> str:
    """The `next` parameter when it points at this site, else `default` (never another host or scheme)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else default


def too_many(request, seconds: int, message: str):
    """The 429 page for a locked-out form, with Retry-After and a wait people can understand."""
    response = render(request, "429.html", {"message": message, "wait": limits.wait_message(seconds)}, status=429)
    response["Retry-After"] = str(seconds)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        wait = limits.retry_after(request, limits.SIGNUP)
        if wait is not None:
            return too_many(request, wait, "Too many accounts were created from your network.")
    if request.method == "POST" and form.is_valid():
        user = form.save()
        if user is not None:
            limits.record(request, limits.SIGNUP)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Your account is ready.")
            return redirect(safe_next(request, default=reverse_lazy("catalog")))
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    form = ProfileForm(request.POST or None, initial={"full_name": request.user.full_name})
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(user=request.user, full_name=form.cleaned_data["full_name"])
        messages.success(request, "Profile saved.")
        return redirect("profile")
    return render(request, "registration/profile.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's login page with the login limits' message, answered 429 with Retry-After while locked."""

    form_class = LimitedAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        wait = getattr(self.request, "login_retry_after", None)
        if wait is not None:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Reset mails are limited per email address (a mailbox is not flooded) and per client address."""

    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        wait = limits.retry_after(self.request, limits.PASSWORD_RESET, account=email)
        if wait is not None:
            return too_many(self.request, wait, "Too many password reset requests.")
        limits.record(self.request, limits.PASSWORD_RESET, account=email)
        return super().form_valid(form)

"""Reactions to Django's authentication signals: count failed logins, revoke API tokens on logout."""

from accounts import limits, services


def on_user_login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    """Count a failed password check against its account and its address (not while locked out)."""
    if request is None or getattr(request, "login_retry_after", None) is not None:
        return
    limits.record(request, limits.LOGIN, account=credentials.get("username") or credentials.get("email") or "")


def on_user_logged_out(sender, request=None, user=None, **kwargs) -> None:
    """Logging out of the site (or the admin) also ends every API token of the account."""
    if user is not None:
        services.user_tokens_revoke(user=user)

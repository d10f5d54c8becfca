"""Reactions to Django's authentication signals: count failed logins."""

from lms.accounts import limits


def on_user_login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    """Count a failed password check against its account and its address (not while locked out)."""
    if request is None or getattr(request, "login_retry_after", None) is not None:
        return
    limits.record(request, limits.LOGIN, account=credentials.get("username") or credentials.get("email") or "")

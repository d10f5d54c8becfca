"""The authentication backend that enforces the login limits on every path that checks a password."""

from django.core.exceptions import PermissionDenied

from accounts import limits


class LoginLimitBackend:
    """First in AUTHENTICATION_BACKENDS: refuses the attempt while its account or address is locked out.

    Every login path (the login page, the admin's login, POST /api/auth/token/) calls
    django.contrib.auth.authenticate() with the request, so this one check covers them all. Raising
    PermissionDenied stops authenticate() before any backend looks at the password, so even the right
    password is refused during a lockout, and `request.login_retry_after` tells the view what to say.
    Failures are counted by the user_login_failed receiver (accounts/receivers.py). Calls without
    a request (Client.login in tests, management commands) are not limited. It has no get_user(): it
    never logs anyone in, so sessions never name it.
    """

    def authenticate(self, request, username=None, **credentials):
        if request is None:
            return None
        wait = limits.retry_after(request, limits.LOGIN, account=username or credentials.get("email") or "")
        if wait is not None:
            request.login_retry_after = wait
            raise PermissionDenied(limits.login_locked_message(wait))
        return None

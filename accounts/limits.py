"""Limits on guessing and on mail/account flooding, kept in the shared rate-limit Redis.

Built on django-ratelimit (already used for certificate verification) rather than a second library:
one counter store shared by every web process, no table written on each attempt, and separate rates per
account and per address. Failed logins are counted (not attempts), so a person who types the password
right is never slowed down; accounts created and reset mails requested are counted when they happen.
Counters live in fixed windows: a limit "5/15m" allows 5 within a window, and the lock lifts when that
window ends (Retry-After says when). Address keys come from core.http.client_ip (trusted proxies only).

If Redis cannot be reached the limits let requests through (RATELIMIT_FAIL_OPEN), as the page limits
do: an outage of the counter store must not stop everyone from logging in. docs/security.md has the
settings and the reasoning.
"""

import logging
from dataclasses import dataclass
from math import ceil

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    group: str
    setting: str
    per_account: bool  # keyed by the email address typed, else by the client's address


LOGIN_ACCOUNT = Limit("login-account", "LOGIN_LIMIT_PER_ACCOUNT", per_account=True)
LOGIN_ADDRESS = Limit("login-address", "LOGIN_LIMIT_PER_ADDRESS", per_account=False)
SIGNUP_ADDRESS = Limit("signup-address", "SIGNUP_LIMIT_PER_ADDRESS", per_account=False)
RESET_ACCOUNT = Limit("reset-account", "PASSWORD_RESET_LIMIT_PER_ACCOUNT", per_account=True)
RESET_ADDRESS = Limit("reset-address", "PASSWORD_RESET_LIMIT_PER_ADDRESS", per_account=False)

LOGIN = (LOGIN_ACCOUNT, LOGIN_ADDRESS)
SIGNUP = (SIGNUP_ADDRESS,)
PASSWORD_RESET = (RESET_ACCOUNT, RESET_ADDRESS)


def account_key(account: str) -> str:
    """The counter of an account: the id of the user the typed address logs into, so every spelling the
    database matches to that user (case, and look-alikes such as the dotless i, U+0131, which PostgreSQL's case
    folding matches to "i") shares one counter; an address that matches nobody counts case-folded."""
    typed = (account or "").strip()
    user = get_user_model()._default_manager.filter(email__iexact=typed).only("pk").first() if typed else None
    return f"user:{user.pk}" if user is not None else f"email:{typed.casefold()}"


def _usage(request: HttpRequest, limit: Limit, *, account: str, increment: bool) -> dict | None:
    if limit.per_account:
        normalized = account_key(account)
        key = lambda group, request: normalized  # noqa: E731 - django-ratelimit calls key(group, request)
    else:
        key = "ip"  # RATELIMIT_IP_META_KEY: core.http.client_ip
    try:
        return get_usage(
            request, group=limit.group, key=key, rate=getattr(settings, limit.setting), increment=increment
        )
    except (RedisError, OSError) as exc:  # fail open, like the rest of the page limits
        logger.warning("Rate-limit store unavailable, %s not enforced: %s", limit.group, exc)
        return None


def retry_after(request: HttpRequest, limits: tuple[Limit, ...], *, account: str = "") -> int | None:
    """Seconds until every exhausted limit among `limits` frees up; None when none is exhausted."""
    waits = []
    for limit in limits:
        usage = _usage(request, limit, account=account, increment=False)
        if usage and usage["count"] >= usage["limit"]:
            waits.append(max(usage["time_left"], 1))
    return max(waits) if waits else None


def record(request: HttpRequest, limits: tuple[Limit, ...], *, account: str = "") -> None:
    """Count one event (a failed login, an account created, a reset requested) against each limit."""
    for limit in limits:
        _usage(request, limit, account=account, increment=True)


def wait_message(seconds: int) -> str:
    """A wait people can act on: "Try again in 12 minutes." (rounded up, never "0 minutes")."""
    if seconds < 60:
        return f"Try again in {seconds} second{'s' if seconds != 1 else ''}."
    minutes = ceil(seconds / 60)
    return f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def login_locked_message(seconds: int) -> str:
    return f"Too many failed login attempts for this account or from your network. {wait_message(seconds)}"

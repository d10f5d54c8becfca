"""Request helpers shared by pages and the API."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address, as far as the configured trusted proxies vouch for it.

    With NUM_PROXIES = 0 (the default) it is REMOTE_ADDR: X-Forwarded-For is written by whoever sends
    the request, so trusting it lets an attacker pick a fresh address for every guess. With N trusted
    proxies in front of the app, each appends the address it received the request from, so the Nth
    entry from the right of X-Forwarded-For is the last address no client could forge. This is the rule
    Django REST framework applies with the same NUM_PROXIES (REST_FRAMEWORK["NUM_PROXIES"]), so API
    throttles and page rate limits agree on who a client is. Page limits get it through
    RATELIMIT_IP_META_KEY; anything else that needs "the client's address" calls this function.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - a key, never a bind address
    num_proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if num_proxies <= 0 or not forwarded:
        return remote_addr
    addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
    if not addresses:
        return remote_addr
    candidate = addresses[-min(num_proxies, len(addresses))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # a proxy that forwards garbage: count it against the proxy's own address
        return remote_addr

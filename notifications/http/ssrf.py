"""The SSRF guard for webhook URLs: which addresses a staff-entered URL may make this server call.

A webhook URL is typed by a person but fetched by our workers, from inside our network. Without a guard
it reaches the cloud metadata service (169.254.169.254), the database, Redis, or an admin port on
localhost. `check_url` resolves the host once and refuses the URL unless every address is public; the
sender then connects to one of exactly those addresses (see notifications.http.sender), so a DNS
answer that changes between the check and the connection (rebinding) cannot slip a private address in.
"""

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Shared address space (carrier-grade NAT, RFC 6598): not global, yet Python calls it neither private nor
# reserved, so it is named here explicitly.
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
# Special-purpose ranges (IANA registries) that some Python versions call public (3.11 says is_global for
# 192.0.0.8 and 3fff::1): named here so the guard does not depend on the interpreter's tables.
SPECIAL_NETWORKS = {
    ipaddress.ip_network("192.0.0.0/24"): "reserved",  # IETF protocol assignments (RFC 6890)
    ipaddress.ip_network("192.88.99.0/24"): "reserved",  # the retired 6to4 relay anycast (RFC 7526)
    ipaddress.ip_network("64:ff9b:1::/48"): "private",  # local-use NAT64 (RFC 8215)
    ipaddress.ip_network("3fff::/20"): "reserved",  # documentation (RFC 9637)
}
# The well-known NAT64 prefix (RFC 6052): the gateway connects to the IPv4 address in the last 32 bits.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURL(ValueError):
    """The URL may not be called by the server; the message says why, in words for staff."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 host an IPv6 address reaches, if it carries one: mapped, 6to4, Teredo or NAT64."""
    if ip in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)


def _kind_of_refused(ip: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why `ip` is refused ("private", "loopback", ...), or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one reaches that IPv4 host: judge the embedded address.
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return _kind_of_refused(embedded, allow_loopback=allow_loopback)
        if ip.is_site_local:
            return "site-local"
    special = next((kind for network, kind in SPECIAL_NETWORKS.items() if ip in network), None)
    if special is not None:
        return special
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip in SHARED_ADDRESS_SPACE:
        return "shared (carrier-grade NAT)"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-public"
    return None


def _parse(url: str) -> tuple[SplitResult, str, int]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # an out-of-range or non-numeric port, a malformed IPv6 literal
        raise UnsafeURL(f"The URL is malformed ({exc}).") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURL("Only http:// and https:// URLs are allowed.")
    if not parts.hostname:
        raise UnsafeURL("The URL must name a host.")
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would be logged and shown in lists; receivers verify the signature instead.
        raise UnsafeURL("The URL must not contain a user name or password.")
    return parts, parts.hostname, port or DEFAULT_PORTS[parts.scheme.lower()]


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host {host} could not be resolved ({exc}).") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # drop an IPv6 zone ("%eth0")
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeURL(f"The host {host} has no addresses.")
    return addresses


def check_url(url: str, *, allow_loopback: bool | None = None) -> list[IPAddress]:
    """Resolve the URL's host and return its addresses if all are public; raise UnsafeURL otherwise.

    `allow_loopback` (default: settings.WEBHOOKS_ALLOW_LOOPBACK, on only in tests and development) lets
    127.0.0.0/8 and ::1 through, and nothing else: private, link-local and the rest stay refused.
    Every address must pass, not just one, since the connection may use any of them.
    """
    if allow_loopback is None:
        allow_loopback = settings.WEBHOOKS_ALLOW_LOOPBACK
    _parts, host, port = _parse(url)
    addresses = resolve(host, port)
    for ip in addresses:
        kind = _kind_of_refused(ip, allow_loopback=allow_loopback)
        if kind is not None:
            named = host if host == str(ip) else f"{host} resolves to {ip}, which"
            raise UnsafeURL(f"{named} is a {kind} address; webhooks may only be sent to public addresses.")
    return addresses

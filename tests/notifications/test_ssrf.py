"""The SSRF guard on its own: which URLs the server refuses to call, and why it says so."""

import socket

import pytest

from notifications.http.ssrf import UnsafeURL, check_url

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def dns(monkeypatch):
    """Fake DNS for names under .example (the real resolver is outside the machine); literals pass through."""
    answers: dict[str, list[str]] = {}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in answers[host]
            ]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    return answers


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://127.1.2.3:8080/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://10.0.0.1/hook", "private"),
        ("http://172.16.5.4/hook", "private"),
        ("http://192.168.1.1/hook", "private"),
        ("http://[fc00::1]/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://240.0.0.1/hook", "reserved"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://[::]/hook", "unspecified"),
        ("http://100.64.0.1/hook", "shared"),
        ("http://[::ffff:10.0.0.1]/hook", "private"),
        ("http://[::ffff:169.254.169.254]/hook", "link-local"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
    ],
)
def test_non_public_addresses_are_refused(url, kind):
    with pytest.raises(UnsafeURL, match=kind):
        check_url(url, allow_loopback=False)


def test_a_host_name_resolving_to_a_private_address_is_refused_and_named(dns):
    dns["internal.example"] = ["10.1.2.3"]

    with pytest.raises(UnsafeURL, match=r"internal\.example resolves to 10\.1\.2\.3, which is a private address"):
        check_url("https://internal.example/hook")


def test_one_private_address_among_public_ones_is_enough_to_refuse(dns):
    dns["mixed.example"] = ["93.184.216.34", "192.168.0.10"]

    with pytest.raises(UnsafeURL, match="private"):
        check_url("https://mixed.example/hook")


def test_a_public_host_returns_every_address_to_connect_to(dns):
    dns["hooks.example"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]

    assert [str(ip) for ip in check_url("https://hooks.example/hook")] == [
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
    ]


def test_the_loopback_allowance_lets_loopback_through_and_nothing_else():
    assert [str(ip) for ip in check_url("http://127.0.0.1:9/hook", allow_loopback=True)] == ["127.0.0.1"]
    assert [str(ip) for ip in check_url("http://[::1]:9/hook", allow_loopback=True)] == ["::1"]
    for url in ("http://10.0.0.1/", "http://169.254.169.254/", "http://192.168.0.1/", "http://0.0.0.0/"):
        with pytest.raises(UnsafeURL):
            check_url(url, allow_loopback=True)


def test_the_allowance_defaults_to_the_setting(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    with pytest.raises(UnsafeURL, match="loopback"):
        check_url("http://127.0.0.1/hook")
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    assert check_url("http://127.0.0.1/hook")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.216.34/x", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("gopher://93.184.216.34/", "Only http:// and https://"),
        ("https:///path-only", "must name a host"),
        ("not a url", "Only http:// and https://"),
        ("https://user:secret@93.184.216.34/", "user name or password"),
        ("https://93.184.216.34:99999/", "malformed"),
    ],
)
def test_malformed_or_non_http_urls_are_refused(url, message):
    with pytest.raises(UnsafeURL, match=message):
        check_url(url)


def test_a_host_that_does_not_resolve_is_refused(dns):
    with pytest.raises(UnsafeURL, match="could not be resolved"):
        check_url("https://no-such-host.invalid/hook")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("fec0::1", "site-local"),  # the attacker's finding: IPv6 site-local, called global by Python 3.11
        ("feff:ffff::1", "site-local"),
        ("ff02::1", "multicast"),
        ("ff0e::1", "multicast"),
        ("2001:db8::1", "private"),  # documentation
        ("3fff::1", "reserved"),  # documentation (RFC 9637)
        ("100::1", "reserved"),  # discard-only
        ("::10.0.0.1", "reserved"),  # IPv4-compatible (deprecated)
        ("192.0.0.8", "reserved"),  # IETF protocol assignments
        ("192.88.99.1", "reserved"),  # retired 6to4 relay anycast
        ("198.18.0.1", "private"),  # benchmarking
        ("0.1.2.3", "private"),  # "this network"
        ("255.255.255.255", "reserved"),  # broadcast
        ("192.0.2.1", "private"),  # documentation (TEST-NET-1)
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of the metadata service
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b:1::a00:1", "private"),  # local-use NAT64 prefix
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2001:0:403:201::f5ff:fffe", "private"),  # Teredo, client 10.0.0.1
        ("::ffff:192.168.0.1", "private"),  # IPv4-mapped
        ("::ffff:100.64.0.1", "shared"),
    ],
)
def test_special_purpose_addresses_and_ipv6_forms_of_private_ones_are_refused(address, kind):
    with pytest.raises(UnsafeURL, match=kind):
        check_url(f"http://[{address}]/hook" if ":" in address else f"http://{address}/hook", allow_loopback=False)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_and_ipv6_forms_of_public_ones_pass(address):
    url = f"http://[{address}]/hook" if ":" in address else f"http://{address}/hook"
    assert [str(ip) for ip in check_url(url, allow_loopback=False)] == [address]

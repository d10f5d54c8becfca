"""Sending one webhook request: to an address the SSRF guard checked, without redirects or retries, with
timeouts and a cap on what is read back; never raises."""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from notifications.http.ssrf import DEFAULT_PORTS, IPAddress, UnsafeURL, check_url


@dataclass
class SendResult:
    status_code: int | None = None
    body: bytes = b""
    headers: Mapping[str, str] | None = None
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _host_header(host: str, scheme: str, port: int) -> str:
    name = f"[{host}]" if ":" in host else host
    return name if port == DEFAULT_PORTS[scheme] else f"{name}:{port}"


def _pool(scheme: str, ip: IPAddress, port: int, host: str, timeout: urllib3.Timeout):
    # Connect to the checked address itself: the host name is not resolved again, so a DNS answer that
    # changed since the check (rebinding) is never used. TLS still verifies the certificate against the
    # host name (SNI and hostname check), as a client resolving normally would.
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(ip),
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=host,
            assert_hostname=host,
        )
    return urllib3.HTTPConnectionPool(str(ip), port, timeout=timeout, retries=False, maxsize=1)


def _read_capped(response, *, cap: int, deadline: float) -> bytes:
    """At most `cap` bytes of the body, and no reading past `deadline`: a receiver that trickles bytes
    cannot hold the worker for (cap x read timeout)."""
    chunks, size = [], 0
    while size < cap and time.monotonic() < deadline:
        chunk = response.read1(min(1024, cap - size))  # at most one recv, each within the read timeout
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def webhook_http_post(*, url: str, body: bytes, headers: dict) -> SendResult:
    """POST `body` to `url`, refusing unsafe addresses, without redirects or retries; never raises.

    The host is resolved once and every address checked (notifications.http.ssrf); the connection goes to a
    checked address, the next one only when the previous refused the connection. Timeouts and the
    response cap come from settings.
    """
    started = time.monotonic()
    result = SendResult()
    try:
        ips = check_url(url)
    except UnsafeURL as exc:
        result.error = f"Refused: {exc}"
        return result
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname if ":" in parts.hostname else parts.hostname.encode("idna").decode("ascii")
    port = parts.port or DEFAULT_PORTS[scheme]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connect_timeout, read_timeout = settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    headers = {**headers, "Host": _host_header(host, scheme, port)}
    try:
        for index, ip in enumerate(ips):
            pool = _pool(scheme, ip, port, host, timeout)
            try:
                response = pool.urlopen(
                    "POST", path, body=body, headers=headers, redirect=False, retries=False, preload_content=False
                )
            except urllib3.exceptions.NewConnectionError:
                # Only a refused or unreachable connection moves on: nothing was sent, so no duplicate.
                pool.close()
                if index + 1 < len(ips) and time.monotonic() - started < connect_timeout:
                    continue
                raise
            try:
                result.status_code = response.status
                result.headers = response.headers  # case-insensitive: "retry-after" is "Retry-After"
                # One budget for the whole send; the last read may still take up to the read timeout.
                deadline = started + connect_timeout + read_timeout
                result.body = _read_capped(response, cap=settings.WEBHOOK_RESPONSE_CAP_BYTES, deadline=deadline)
            finally:
                response.release_conn()
                pool.close()
            break
    except Exception as exc:  # timeouts, resets, TLS errors, the task's soft time limit: all are a failed attempt
        result.error = f"{type(exc).__name__}: {exc}"
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result

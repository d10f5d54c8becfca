"""The Redis cache behind API throttling and page rate limits, failing open when Redis is unreachable.

Both caches hold counters only: losing them for a while lets a client past a rate limit, while raising
makes every throttled request a 500. So an unreachable Redis reads as an empty cache and writes are
dropped: DRF's throttles then allow the request, and django-ratelimit (whose `incr` gets the ValueError
of a missing key) fails open under RATELIMIT_FAIL_OPEN. It logs one warning per outage and skips Redis for
a few seconds after a failure, so a Redis that hangs instead of refusing costs a request one socket
timeout at most every few seconds per process, not one per cache call.

Django's RedisCache has no option for this (django-redis's IGNORE_EXCEPTIONS returns None from `get`
instead of its default, which DRF's throttles cannot take), hence this small subclass.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Any error of the server, not only an unreachable one: a Redis that refuses writes (maxmemory with
# noeviction, a read-only replica after a failover, MISCONF after a failed snapshot) must not turn every
# throttled request into a 500 either.
UNREACHABLE = (RedisError,)
# After a failed call, calls skip Redis this long (seconds) before trying it again.
RETRY_AFTER = 5.0

_lock = threading.Lock()
_down_until: dict[str, float] = {}  # server -> monotonic time before which Redis is not tried


class FailOpenRedisCache(RedisCache):
    """Django's RedisCache that treats an unreachable server as an empty cache (see the module docstring)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._server = ",".join(self._servers)

    def _call(self, method: str, fallback, *args, **kwargs):
        if _down_until.get(self._server, 0.0) > time.monotonic():
            return fallback
        try:
            value = getattr(super(), method)(*args, **kwargs)
        except UNREACHABLE as exc:
            self._mark_down(exc)
            return fallback
        if self._server in _down_until:
            with _lock:
                if _down_until.pop(self._server, None) is not None:
                    logger.info("Redis cache at %s answers again", self._redacted())
        return value

    def _mark_down(self, exc: Exception) -> None:
        with _lock:
            first = self._server not in _down_until
            _down_until[self._server] = time.monotonic() + RETRY_AFTER
        if first:  # one warning per outage, not one per request
            logger.warning(
                "Redis cache at %s is unreachable (%s): rate limits and throttles fail open until it answers",
                self._redacted(),
                exc,
            )

    def _redacted(self) -> str:
        from core.reachability import redact_url

        return ",".join(redact_url(server) for server in self._servers)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def incr(self, key, delta=1, version=None):
        missing = object()
        value = self._call("incr", missing, key, delta, version)
        if value is missing:  # Django's answer for a key that is not there: callers already handle it
            raise ValueError(f"Key '{key}' not found (Redis cache unreachable)")
        return value

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version)

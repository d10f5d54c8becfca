"""The Redis cache of throttles and rate limits fails open: an unreachable server reads as an empty cache."""

import logging

import pytest
from django.core.cache.backends.base import DEFAULT_TIMEOUT

from core.cache import FailOpenRedisCache
from devrun.embedded import free_port


@pytest.fixture
def unreachable_cache():
    # A real connection attempt to a loopback port nothing listens on (refused at once).
    return FailOpenRedisCache(f"redis://127.0.0.1:{free_port()}/0", {"OPTIONS": {"socket_connect_timeout": 0.5}})


def test_an_unreachable_redis_reads_as_an_empty_cache_and_drops_writes(unreachable_cache, caplog):
    caplog.set_level(logging.WARNING, logger="core.cache")
    cache = unreachable_cache

    assert cache.get("throttle_user_1", []) == []
    assert cache.add("rl:1", 1, 60) is False
    with pytest.raises(ValueError, match="not found"):  # what django-ratelimit treats as "fail open"
        cache.incr("rl:1")
    cache.set("throttle_user_1", [1.0], DEFAULT_TIMEOUT)
    assert cache.get_many(["a", "b"]) == {} and cache.has_key("a") is False
    assert cache.get_or_set("k", 7) == 7

    warnings = [record.getMessage() for record in caplog.records if record.name == "core.cache"]
    assert len(warnings) == 1 and "is unreachable" in warnings[0] and "fail open" in warnings[0]


def test_a_reachable_redis_is_used_as_usual(settings):
    cache = FailOpenRedisCache(settings.CELERY_BROKER_URL, {"KEY_PREFIX": "test-fail-open-cache"})
    try:
        assert cache.add("counter", 1, 60) is True
        assert cache.incr("counter") == 2
        assert cache.get("counter") == 2
    finally:
        cache.delete("counter")


def test_a_redis_that_refuses_writes_also_fails_open(tmp_path, caplog):
    # A read-only replica (as after a failover) answers every write with an error, not a lost connection.
    import redis

    from devrun.embedded import start_redis

    process, url = start_redis(workdir=tmp_path)
    try:
        redis.Redis.from_url(url).replicaof("127.0.0.1", free_port())
        caplog.set_level(logging.WARNING, logger="core.cache")
        cache = FailOpenRedisCache(url, {})

        cache.set("throttle_user_1", [1.0], DEFAULT_TIMEOUT)
        assert cache.add("rl:1", 1, 60) is False
        with pytest.raises(ValueError, match="not found"):
            cache.incr("rl:1")
        assert [r.name for r in caplog.records].count("core.cache") == 1
    finally:
        process.kill()
        process.wait()

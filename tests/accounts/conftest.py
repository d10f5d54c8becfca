import pytest
from django.core.cache import caches

from tests.jobs.factories import UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def fresh_counters():
    """Login limits and DRF throttles count in caches that outlive a test: start and end with none."""
    caches["ratelimit"].clear()
    caches["default"].clear()
    yield
    caches["ratelimit"].clear()
    caches["default"].clear()


@pytest.fixture
def learner(db):
    return UserFactory(email="ada@example.com")


@pytest.fixture
def throttle_rates(monkeypatch):
    """Set DRF throttle rates for one test (DRF reads them into a class attribute at import)."""
    from rest_framework.throttling import SimpleRateThrottle

    def set_rates(**rates):
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, **rates})

    return set_rates

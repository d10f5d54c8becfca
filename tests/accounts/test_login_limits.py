"""Password guessing meets a lockout on every login path, per account and per address."""

import pytest

from tests.accounts.conftest import PASSWORD
from tests.jobs.factories import UserFactory
from tests.utils import error_detail

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed login attempts"


@pytest.fixture
def low_limits(settings):
    settings.LOGIN_LIMIT_PER_ACCOUNT = "5/15m"
    settings.LOGIN_LIMIT_PER_ADDRESS = "10/15m"


def page_login(client, email, password, path="/accounts/login/"):
    return client.post(path, {"username": email, "password": password})


def test_login_page_refuses_even_the_right_password_after_five_wrong_ones(client, learner, low_limits):
    statuses = [page_login(client, learner.email, f"wrong-{n}").status_code for n in range(5)]
    assert statuses == [200] * 5

    response = page_login(client, learner.email, PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode() and "Try again in" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert client.get("/dashboard/").status_code == 302  # not logged in: sent to the login page


def test_lockout_is_per_account_so_another_learner_still_logs_in(client, learner, low_limits):
    other = UserFactory(email="grace@example.com")
    for n in range(5):
        page_login(client, learner.email, f"wrong-{n}")
    assert page_login(client, other.email, PASSWORD).status_code == 302


def test_account_lockout_does_not_depend_on_the_address(client, learner, low_limits):
    for n in range(5):
        client.post("/accounts/login/", {"username": learner.email, "password": "x"}, REMOTE_ADDR=f"198.51.100.{n + 1}")
    response = client.post(
        "/accounts/login/", {"username": learner.email.upper(), "password": PASSWORD}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 429 and LOCKED in response.content.decode()


def test_address_lockout_stops_guessing_across_many_accounts(client, low_limits):
    users = [UserFactory() for _ in range(11)]
    for user in users[:10]:
        assert page_login(client, user.email, "wrong").status_code == 200
    response = page_login(client, users[10].email, PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()


def test_admin_login_locks_out_after_too_many_wrong_passwords(client, low_limits):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    for n in range(5):
        assert page_login(client, staff.email, f"wrong-{n}", "/admin/login/").status_code == 200

    response = page_login(client, staff.email, PASSWORD, "/admin/login/")

    assert LOCKED in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still sent to the admin's login


def test_api_token_locks_out_with_429_json_and_retry_after(api_client, learner, low_limits):
    for _ in range(5):
        response = api_client.post("/api/auth/token/", {"email": learner.email, "password": "wrong"}, format="json")
        assert response.status_code == 400

    response = api_client.post("/api/auth/token/", {"email": learner.email, "password": PASSWORD}, format="json")

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert LOCKED in error_detail(response) and int(response["Retry-After"]) > 0
    assert "token" not in response.json()


def test_failures_on_one_path_count_on_the_others(client, api_client, learner, low_limits):
    for _ in range(5):
        api_client.post("/api/auth/token/", {"email": learner.email, "password": "wrong"}, format="json")
    assert page_login(client, learner.email, PASSWORD).status_code == 429


def test_right_password_before_the_limit_logs_in(client, learner, low_limits):
    for n in range(4):
        page_login(client, learner.email, f"wrong-{n}")
    assert page_login(client, learner.email, PASSWORD).status_code == 302


def test_rotating_x_forwarded_for_still_meets_the_address_limit(api_client, low_limits):
    users = [UserFactory() for _ in range(11)]
    statuses = [
        api_client.post(
            "/api/auth/token/",
            {"email": user.email, "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.{n}.{n}",
        ).status_code
        for n, user in enumerate(users)
    ]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429


def test_rotating_x_forwarded_for_still_meets_the_api_auth_throttle(api_client, learner, throttle_rates):
    throttle_rates(auth="5/min")
    statuses = [
        api_client.post(
            "/api/auth/token/",
            {"email": f"nobody{n}@example.com", "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.1.{n}.1",
        ).status_code
        for n in range(7)
    ]
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429, 429]


def test_rotating_x_forwarded_for_still_meets_the_verification_api_throttle(api_client, throttle_rates):
    throttle_rates(verify="3/min")
    statuses = [
        api_client.get(
            "/api/certificates/verify/AAAABBBBCCCCDDDDEEEEFFFF/", HTTP_X_FORWARDED_FOR=f"10.2.{n}.1"
        ).status_code
        for n in range(5)
    ]
    assert statuses == [404, 404, 404, 429, 429]


def test_behind_one_trusted_proxy_the_address_it_saw_is_the_client(client, settings, low_limits):
    settings.NUM_PROXIES = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    users = [UserFactory() for _ in range(12)]
    # The client forges the left part; the proxy appends the address it saw, which alone is trusted.
    for n, user in enumerate(users[:10]):
        client.post(
            "/accounts/login/",
            {"username": user.email, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"10.3.{n}.1, 203.0.113.7",
        )
    locked = client.post(
        "/accounts/login/", {"username": users[10].email, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    other_client = client.post(
        "/accounts/login/", {"username": users[11].email, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.8"
    )
    assert locked.status_code == 429 and other_client.status_code == 302


def test_login_still_works_when_the_rate_limit_store_is_down(client, learner, settings, low_limits):
    from django.test import override_settings

    down = {**settings.CACHES["ratelimit"], "LOCATION": "redis://127.0.0.1:1/0"}  # nothing listens there
    with override_settings(CACHES={**settings.CACHES, "ratelimit": down}):
        assert page_login(client, learner.email, "wrong").status_code == 200
        assert page_login(client, learner.email, PASSWORD).status_code == 302


@pytest.mark.postgres
def test_a_look_alike_spelling_of_a_locked_account_is_locked_too(client, learner, low_limits):
    from tests.conftest import is_postgres

    if not is_postgres():
        pytest.skip("SQLite's case-insensitive match is ASCII only: the look-alike logs into nobody there")
    learner.email = "alice@example.com"
    learner.save(update_fields=["email"])
    for n in range(5):
        page_login(client, "alice@example.com", f"wrong-{n}")
    # PostgreSQL's UPPER() matches the dotless i (U+0131) to "I": this spelling logs into the same account.
    response = page_login(client, "al\u0131ce@example.com", PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()

"""Sign-up and password reset cannot be used to mass-create accounts or flood a mailbox."""

import pytest
from django.contrib.auth import get_user_model

from tests.jobs.factories import UserFactory
from tests.utils import error_detail

pytestmark = pytest.mark.django_db
User = get_user_model()


def signup(client, n, **extra):
    data = {
        "email": f"new{n}@example.com",
        "password1": "a-long-pass-phrase-2024",
        "password2": "a-long-pass-phrase-2024",
    }
    response = client.post("/accounts/signup/", data, **extra)
    client.logout()
    return response


def test_signup_page_stops_creating_accounts_from_one_address(client, settings):
    settings.SIGNUP_LIMIT_PER_ADDRESS = "3/h"
    statuses = [signup(client, n).status_code for n in range(4)]

    assert statuses == [302, 302, 302, 429]
    assert User.objects.filter(email__startswith="new").count() == 3
    response = signup(client, 9)
    assert "Too many accounts were created from your network." in response.content.decode()
    assert int(response["Retry-After"]) > 0


def test_signup_limit_ignores_a_rotating_x_forwarded_for(client, settings):
    settings.SIGNUP_LIMIT_PER_ADDRESS = "3/h"
    statuses = [signup(client, n, HTTP_X_FORWARDED_FOR=f"10.9.{n}.1").status_code for n in range(4)]
    assert statuses == [302, 302, 302, 429]


def test_api_register_stops_creating_accounts_from_one_address(api_client, settings):
    settings.SIGNUP_LIMIT_PER_ADDRESS = "3/h"
    responses = [
        api_client.post(
            "/api/auth/register/",
            {"email": f"api{n}@example.com", "password": "a-long-pass-phrase-2024"},
            format="json",
        )
        for n in range(4)
    ]
    assert [r.status_code for r in responses] == [201, 201, 201, 429]
    assert "Too many accounts" in error_detail(responses[3]) and int(responses[3]["Retry-After"]) > 0
    assert not User.objects.filter(email="api3@example.com").exists()


def test_password_reset_stops_mailing_one_account(client, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT = "3/h"
    learner = UserFactory()
    statuses = [client.post("/accounts/password-reset/", {"email": learner.email}).status_code for _ in range(4)]

    assert statuses == [302, 302, 302, 429]
    response = client.post("/accounts/password-reset/", {"email": learner.email.upper()})
    assert "Too many password reset requests." in response.content.decode()


def test_password_reset_stops_one_address_asking_for_many_accounts(client, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = "3/h"
    statuses = [
        client.post("/accounts/password-reset/", {"email": f"someone{n}@example.com"}).status_code for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]

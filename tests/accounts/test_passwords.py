"""Django's password validators apply on every path that sets a password."""

import pytest
from django.contrib.auth import get_user_model

from tests.accounts.conftest import PASSWORD
from tests.jobs.factories import UserFactory
from tests.utils import field_errors

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_page_signup_refuses_a_common_password(client):
    response = client.post(
        "/accounts/signup/", {"email": "n@example.com", "password1": "password", "password2": "password"}
    )
    assert response.status_code == 200 and "too common" in response.content.decode()
    assert not User.objects.filter(email="n@example.com").exists()


def test_api_register_refuses_a_numeric_password(api_client):
    response = api_client.post(
        "/api/auth/register/", {"email": "n@example.com", "password": "12345678901"}, format="json"
    )
    assert response.status_code == 400 and "password" in field_errors(response)


def test_password_change_refuses_a_short_password(client, learner):
    client.force_login(learner)
    response = client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": "x1", "new_password2": "x1"}
    )
    assert response.status_code == 200 and "too short" in response.content.decode()


def test_admin_add_user_refuses_a_common_password(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/accounts/user/add/",
        {"email": "added@example.com", "password1": "password", "password2": "password", "usable_password": "true"},
    )
    assert response.status_code == 200 and "too common" in response.content.decode()
    assert not User.objects.filter(email="added@example.com").exists()

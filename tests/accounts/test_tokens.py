"""An API token dies with the session that logs out and with the password it was issued under."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "an-entirely-new-passphrase-77"


def token_for(user) -> APIClient:
    client = APIClient()
    response = client.post("/api/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/auth/me/").status_code == 200
    return client


def test_api_logout_deletes_the_token(learner):
    api = token_for(learner)
    assert api.post("/api/auth/logout/").status_code == 204
    assert api.get("/api/auth/me/").status_code == 401


def test_api_logout_needs_credentials(api_client):
    assert api_client.post("/api/auth/logout/").status_code == 401


def test_page_logout_revokes_the_token(client, learner):
    api = token_for(learner)
    client.force_login(learner)
    assert client.post("/accounts/logout/").status_code == 302
    assert api.get("/api/auth/me/").status_code == 401


def test_password_change_revokes_the_token(client, learner):
    api = token_for(learner)
    client.force_login(learner)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert api.get("/api/auth/me/").status_code == 401


def test_password_reset_revokes_the_token(client, learner):
    api = token_for(learner)
    uid = urlsafe_base64_encode(force_bytes(learner.pk))
    form_url = client.get(f"/accounts/reset/{uid}/{default_token_generator.make_token(learner)}/")["Location"]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/reset/done/"
    assert api.get("/api/auth/me/").status_code == 401


def test_admin_password_change_revokes_the_token(client, learner):
    from tests.jobs.factories import UserFactory

    api = token_for(learner)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        f"/admin/accounts/user/{learner.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert api.get("/api/auth/me/").status_code == 401


def test_profile_save_keeps_the_token(client, learner):
    api = token_for(learner)
    client.force_login(learner)
    client.post("/accounts/profile/", {"full_name": "Ada L."})
    assert api.get("/api/auth/me/").status_code == 200

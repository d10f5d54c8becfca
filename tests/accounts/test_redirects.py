"""`next` is followed only when it points back at this site."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

FORM = {"email": "new@example.com", "password1": "a-long-pass-phrase-2024", "password2": "a-long-pass-phrase-2024"}


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/phish", "//evil.example/phish", "javascript:alert(1)", "http:///evil.example", "///x"],
)
def test_signup_does_not_follow_next_off_the_site(client, target):
    response = client.post(f"/accounts/signup/?next={target}", FORM)
    assert response.status_code == 302 and response["Location"] == "/courses/"
    assert get_user_model().objects.filter(email="new@example.com").exists()


def test_signup_follows_next_on_this_site(client):
    response = client.post("/accounts/signup/?next=/courses/python-basics/", FORM)
    assert response.status_code == 302 and response["Location"] == "/courses/python-basics/"


def test_login_does_not_follow_next_off_the_site(client, learner):
    from tests.accounts.conftest import PASSWORD

    response = client.post(
        "/accounts/login/?next=https://evil.example/", {"username": learner.email, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/"

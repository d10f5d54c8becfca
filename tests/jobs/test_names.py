"""Names are stored normalised whichever way they are written: no bidi controls or zero-width characters
(a right-to-left override reverses a name on the certificate), NFC, whitespace collapsed."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from accounts.names import normalize_name
from imports import services as imports
from tests.courses.factories import CourseFactory
from tests.jobs.factories import UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()

# As typed: an override that reverses what follows, isolates, zero-width characters, "e" + a combining
# acute accent, a non-breaking space and a tab between the words.
TYPED = "\u202eAnn\u200b\u2066 Zoe\u0301\u2069\u00a0\u200d\u00a0Smith\tJr\u200f "
STORED = "Ann Zoé Smith Jr"
JOBS_INLINE = {"jobs-job-content_type-object_id-TOTAL_FORMS": "0", "jobs-job-content_type-object_id-INITIAL_FORMS": "0"}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (TYPED, STORED),
        ("Ann \u202ehtimS", "Ann htimS"),  # the attacker's name: shown reversed before, now as stored
        ("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061cA", "A"),
        ("\u200bB\u200c\u200d\u2060\ufeff", "B"),
        ("Zoe\u0301", "Zoé"),
        ("  Mary   Ann\n\r\tLee  ", "Mary Ann Lee"),
        ("Nul\x00 Byte\x07", "Nul Byte"),
        ("Δημήτρης Иван Ľudmila Ørsted", "Δημήτρης Иван Ľudmila Ørsted"),
        ("محمد", "محمد"),  # right-to-left scripts are kept: only the invisible controls go
        ("\u200b\u202e ", ""),
        ("", ""),
    ],
)
def test_normalize_name(typed, stored):
    assert normalize_name(typed) == stored


def test_signup_page_stores_the_normalised_name(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "ann@example.com",
            "full_name": TYPED,
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="ann@example.com").full_name == STORED


def test_api_register_stores_and_answers_the_normalised_name(api_client):
    response = api_client.post(
        "/api/auth/register/",
        {"email": "ann@example.com", "password": "a-long-passphrase-42", "full_name": TYPED},
        format="json",
    )
    assert response.status_code == 201 and response.json()["full_name"] == STORED
    assert User.objects.get(email="ann@example.com").full_name == STORED


def test_api_register_counts_the_length_of_the_stored_name():
    from accounts.api.serializers import RegisterSerializer

    padded = "A" * 200 + "\u200b" * 10
    serializer = RegisterSerializer(data={"email": "a@example.com", "password": "x", "full_name": padded})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["full_name"] == "A" * 200


def test_profile_page_stores_the_normalised_name(client):
    user = UserFactory()
    client.force_login(user)

    client.post("/accounts/profile/", {"full_name": TYPED})

    user.refresh_from_db()
    assert user.full_name == STORED


def test_admin_add_and_change_pages_store_the_normalised_name(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "ann@example.com",
            "full_name": TYPED,
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
            **JOBS_INLINE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="ann@example.com")
    assert user.full_name == STORED

    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "email": user.email,
            "full_name": "\u202eBob\u200b  Lee",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            **JOBS_INLINE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.full_name == "Bob Lee"


def test_an_import_row_creates_the_learner_with_the_normalised_name(db):
    CourseFactory(slug="python-101")
    content = f"email,full_name,course\nann@example.org,{TYPED},python-101\n".encode()
    job = imports.import_start(upload=SimpleUploadedFile("f.csv", content), uploaded_by=None)
    try:
        imports.import_process(import_id=job.pk)
        assert User.objects.get(email="ann@example.org").full_name == STORED
    finally:
        job.file.delete(save=False)


def test_no_write_path_of_the_model_skips_it(db):
    user = User.objects.create_user(email="a@example.com", full_name=TYPED)
    assert user.full_name == STORED  # the instance too, not only the row
    [bulk] = User.objects.bulk_create([User(email="b@example.com", full_name=TYPED)])
    assert bulk.full_name == STORED
    User.objects.filter(pk=user.pk).update(full_name="\u202eC\u200b D")
    assert sorted(User.objects.values_list("full_name", flat=True)) == ["Ann Zoé Smith Jr", "C D"]


def test_the_data_migration_normalises_names_stored_before(db):
    user = UserFactory(full_name="Clean Name")
    raw = UserFactory(full_name="x")
    with connection.cursor() as cursor:  # as stored by the old code, below the model field
        cursor.execute(f"UPDATE {User._meta.db_table} SET full_name = %s WHERE id = %s", [TYPED, raw.pk])
    migration = importlib.import_module("accounts.migrations.0002_full_name_normalized")

    migration.normalize_existing_names(apps, None)

    assert dict(User.objects.filter(pk__in=[user.pk, raw.pk]).values_list("pk", "full_name")) == {
        user.pk: "Clean Name",
        raw.pk: STORED,
    }

"""The schema says what the server does, and the API takes JSON only (a form body cannot switch a boolean
off by leaving it out). What a typed client generated from /api/schema/ relies on is checked here."""

from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import Client

from notifications.models import WebhookEndpoint
from tests.courses.factories import CourseFactory
from tests.jobs.factories import UserFactory, staff_with
from tests.notifications.factories_webhooks import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.216.34/hooks"  # an IP literal: no DNS needed
ERROR_STATUSES = {"400", "404", "405", "415", "429", "500"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def component(schema, name):
    return schema["components"]["schemas"][name]


def test_schema_validates_without_warnings(tmp_path):
    # --fail-on-warn turns any warning (an unresolvable field type, an enum name collision) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_form_put_on_a_webhook_endpoint_is_415_and_leaves_it_active(api_client):
    endpoint = WebhookEndpointFactory(url=PUBLIC_URL, is_active=True, description="CRM")
    api_client.force_authenticate(staff_with("notifications.change_webhookendpoint"))

    # A form body without the checkbox would have meant is_active=False.
    response = api_client.put(
        f"/api/webhooks/endpoints/{endpoint.pk}/",
        urlencode({"url": PUBLIC_URL, "description": "x"}),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.description == "CRM"


def test_the_same_put_as_json_keeps_a_boolean_it_leaves_out_as_it_was(api_client):
    endpoint = WebhookEndpointFactory(url=PUBLIC_URL, is_active=True)
    api_client.force_authenticate(staff_with("notifications.change_webhookendpoint"))

    response = api_client.put(
        f"/api/webhooks/endpoints/{endpoint.pk}/", {"url": PUBLIC_URL, "description": "x"}, format="json"
    )

    assert response.status_code == 200 and response.json()["is_active"] is True
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).is_active


@pytest.mark.parametrize("body_format", ["multipart", "form"])
def test_a_form_or_multipart_post_to_register_is_415(api_client, body_format):
    data = {"email": "form@example.com", "password": "a-long-pass-2024"}
    if body_format == "multipart":
        response = api_client.post("/api/auth/register/", data, format="multipart")
    else:
        response = api_client.post(
            "/api/auth/register/", urlencode(data), content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 415


def test_the_api_answers_json_even_to_a_browser(api_client):
    response = api_client.get("/api/courses/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


def test_only_the_upload_takes_multipart_and_no_write_takes_a_form(schema):
    bodies = {
        (path, method): set(operation["requestBody"]["content"])
        for path, method, operation in operations(schema)
        if "requestBody" in operation
    }
    assert bodies.pop(("/api/imports/", "post")) == {"multipart/form-data"}
    assert bodies and all(media_types == {"application/json"} for media_types in bodies.values()), bodies


def test_the_upload_is_a_binary_file(schema):
    body = schema["paths"]["/api/imports/"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    upload = component(schema, body["$ref"].rsplit("/", 1)[1])
    assert (upload["properties"]["file"]["type"], upload["properties"]["file"]["format"]) == ("string", "binary")


def test_requests_do_not_demand_read_only_fields(schema):
    body = schema["paths"]["/api/webhooks/endpoints/"]["post"]["requestBody"]["content"]["application/json"]
    request = component(schema, body["schema"]["$ref"].rsplit("/", 1)[1])
    assert not {"id", "secret", "created_at"} & set(request["properties"])
    assert request.get("required") == ["url"]


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("Enrollment", "last_completed_at"),
        ("Enrollment", "completed_at"),
        ("Enrollment", "certificate_url"),
        ("Certificate", "issued_at"),
        ("Certificate", "download_url"),
        ("ImportJob", "uploaded_by"),
        ("Lesson", "body_html"),
    ],
)
def test_fields_that_can_be_null_are_nullable(schema, name, field):
    assert component(schema, name)["properties"][field].get("nullable") is True


def test_pdf_and_csv_responses_have_their_media_types(schema):
    pdf = schema["paths"]["/api/certificates/{id}/pdf/"]["get"]["responses"]["200"]["content"]
    csv = schema["paths"]["/api/imports/{id}/errors.csv"]["get"]["responses"]["200"]["content"]
    assert pdf["application/pdf"]["schema"]["format"] == "binary"
    assert set(csv) == {"text/csv"}


def test_every_operation_documents_its_errors_in_the_one_shape(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert set(responses) >= ERROR_STATUSES, (method, path, sorted(responses))
        for status in set(responses) - {"200", "201", "202", "204"}:
            ref = responses[status]["content"]["application/json"]["schema"]
            refs = [entry["$ref"] for entry in ref.get("oneOf", [ref])]
            error_refs = [r for r in refs if "Error" in r]
            assert error_refs, (method, path, status)
            for error_ref in error_refs:
                assert set(component(schema, error_ref.rsplit("/", 1)[1])["properties"]) == {"type", "errors"}
        if operation.get("security") and any(operation["security"]):
            assert "401" in responses, (method, path)


def test_headers_are_documented_where_they_are_sent(schema):
    upload = schema["paths"]["/api/imports/"]["post"]["responses"]["202"]
    assert "Location" in upload["headers"]
    for path, method, operation in operations(schema):
        assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)
    enroll = schema["paths"]["/api/courses/{slug}/enroll/"]["post"]["responses"]
    assert "Idempotent-Replayed" in enroll["201"]["headers"] and "Idempotent-Replayed" in enroll["200"]["headers"]
    assert "Retry-After" in enroll["409"]["headers"]
    assert "Idempotent-Replayed" not in enroll["401"].get("headers", {})


def test_a_session_write_without_csrf_gets_the_documented_403(schema):
    CourseFactory(slug="python")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory())

    response = browser.post("/api/courses/python/enroll/")

    assert response.status_code == 403 and response.json()["errors"][0]["code"] == "permission_denied"
    assert "403" in schema["paths"]["/api/courses/{slug}/enroll/"]["post"]["responses"]

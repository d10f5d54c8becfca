"""A client generated from /api/schema/ by openapi-python-client works untouched: every module imports, and
it drives a learner's whole journey and a staff call against a real server and worker, with every status
checked against the schema (an undocumented status raises UnexpectedStatus)."""

import datetime
import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from accounts.staff_groups import staff_groups_sync
from tests.conftest import ROOT
from tests.courses.factories import course_with_lessons
from tests.jobs.factories import UserFactory, grant
from tests.utils import wait_for

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).with_name("openapi-python-client.yaml")
PACKAGE = "lms_api_client"


def _run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def api_client_package():
    """Generate the schema with `manage.py spectacular` and a client from it (offline), and import it."""
    workdir = ROOT / "var" / f"test-client-{os.getpid()}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    schema = workdir / "schema.yaml"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    _run([sys.executable, "manage.py", "spectacular", "--file", str(schema)], env=env)
    bin_dir = Path(sys.executable).parent  # the generator runs ruff from PATH on what it writes
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    _run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(schema), "--meta", "none",
         "--output-path", str(workdir / PACKAGE), "--config", str(CONFIG)],
        env=env,
    )  # fmt: skip
    sys.path.insert(0, str(workdir))
    try:
        package = importlib.import_module(PACKAGE)
        yield package
    finally:
        sys.path.remove(str(workdir))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
        shutil.rmtree(workdir, ignore_errors=True)


def _api(package, name: str):
    return importlib.import_module(f"{package.__name__}.api.{name}")


def _model(package, name: str):
    return getattr(importlib.import_module(f"{package.__name__}.models"), name)


def test_every_module_of_the_generated_client_imports(api_client_package):
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(api_client_package.__path__, prefix=f"{PACKAGE}.")
    ]
    names = {module.__name__ for module in modules}
    assert f"{PACKAGE}.api.auth.auth_register_create" in names
    assert f"{PACKAGE}.api.webhooks.webhooks_endpoints_update" in names


def test_generated_client_runs_a_learner_journey_and_a_staff_call(api_client_package, live_server, worker):
    package = api_client_package
    course, lessons = course_with_lessons(3, slug="client-journey", title="Client journey")
    anonymous = package.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    register = _api(package, "auth.auth_register_create")
    email = f"client-{uuid.uuid4().hex[:8]}@example.com"
    body = _model(package, "RegisterRequest")(email=email, password="pw-1234567", full_name="Ada Client")
    user = register.sync(client=anonymous, body=body)
    assert user.email == email
    # A documented error comes back as the error model, not as "unexpected status".
    again = register.sync_detailed(
        client=anonymous, body=_model(package, "RegisterRequest")(email=email, password="pw-1234567")
    )
    assert again.status_code == 400 and again.parsed.errors[0].attr == "email"

    token = _api(package, "auth.auth_token_create").sync(
        client=anonymous, body=_model(package, "CredentialsRequest")(email=email, password="pw-1234567")
    )
    learner = package.AuthenticatedClient(
        base_url=live_server.url, token=token.token, prefix="Token", raise_on_unexpected_status=True
    )

    catalogue = _api(package, "courses.courses_list").sync(client=anonymous)
    assert course.slug in [entry.slug for entry in catalogue.results]
    enrolled = _api(package, "courses.courses_enroll_create").sync_detailed(client=learner, slug=course.slug)
    assert enrolled.status_code == 201 and enrolled.parsed.last_completed_at is None
    enrollment_id = enrolled.parsed.id

    detail = _api(package, "courses.courses_retrieve").sync(client=learner, slug=course.slug)
    assert [lesson.id for lesson in detail.lessons] == [lesson.pk for lesson in lessons]
    complete = _api(package, "lessons.lessons_complete_create")
    for lesson in detail.lessons:
        assert complete.sync_detailed(client=learner, id=lesson.id).status_code == 202

    get_enrollment = _api(package, "enrollments.enrollments_retrieve")
    finished = wait_for(
        lambda: (e := get_enrollment.sync(client=learner, id=enrollment_id)).progress_percent == 100 and e,
        timeout=30,
        message="progress 100 through the worker",
    )
    assert finished.lessons_completed == 3 and finished.last_completed_at is not None

    list_certificates = _api(package, "certificates.certificates_list")
    certificate = wait_for(
        lambda: next((c for c in list_certificates.sync(client=learner).results if c.status == "issued"), None),
        timeout=30,
        message="the certificate issued by the worker",
    )
    verification = _api(package, "certificates.certificates_verify_retrieve").sync(
        client=anonymous, code=certificate.code
    )
    assert verification.valid and verification.course_title == "Client journey"
    assert verification.learner_name == "Ada Client"
    pdf = _api(package, "certificates.certificates_pdf_retrieve").sync_detailed(client=learner, id=certificate.id)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # Staff: an integrator (the recommended group) creates and lists webhook endpoints.
    integrator_group = next(group for group in staff_groups_sync() if group.name == "Integrator")
    staff = UserFactory(email="integrator@example.com", is_staff=True)
    staff.groups.add(integrator_group)
    credentials = _model(package, "CredentialsRequest")(email=staff.email, password="correct-horse-battery")
    staff_token = _api(package, "auth.auth_token_create").sync(client=anonymous, body=credentials)
    staff_client = package.AuthenticatedClient(
        base_url=live_server.url, token=staff_token.token, prefix="Token", raise_on_unexpected_status=True
    )
    created = _api(package, "webhooks.webhooks_endpoints_create").sync_detailed(
        client=staff_client,
        body=_model(package, "WebhookEndpointWriteRequest")(url="http://127.0.0.1:9/lms", is_active=True),
    )
    assert created.status_code == 201 and created.parsed.secret
    listed = _api(package, "webhooks.webhooks_endpoints_list").sync(client=staff_client)
    assert [endpoint.url for endpoint in listed.results] == ["http://127.0.0.1:9/lms"]
    # The learner is refused with the documented 403.
    refused = _api(package, "webhooks.webhooks_endpoints_list").sync_detailed(client=learner)
    assert refused.status_code == 403 and refused.parsed.errors[0].code == "permission_denied"

    # The integrator follows what webhook payloads link to, and syncs enrollments incrementally.
    synced = _api(package, "enrollments.enrollments_list").sync(
        client=staff_client, updated_since=finished.updated_at - datetime.timedelta(minutes=1)
    )
    assert enrollment_id in [row.id for row in synced.results]
    followed = _api(package, "enrollments.enrollments_retrieve").sync(client=staff_client, id=enrollment_id)
    assert followed.progress_percent == 100 and followed.learner_email == email
    read = _api(package, "certificates.certificates_retrieve").sync(client=staff_client, id=certificate.id)
    assert read.code == certificate.code

    # Webhook endpoint management: rotate the secret, send a test event, find its delivery.
    endpoint_id = created.parsed.id
    rotated = _api(package, "webhooks.webhooks_endpoints_rotate_secret_create").sync(
        client=staff_client, id=endpoint_id
    )
    assert rotated.secret != created.parsed.secret and rotated.previous_secret_expires_at is not None
    tested = _api(package, "webhooks.webhooks_endpoints_test_create").sync_detailed(client=staff_client, id=endpoint_id)
    assert tested.status_code == 202
    deliveries = _api(package, "webhooks.webhooks_deliveries_list").sync(client=staff_client, endpoint=endpoint_id)
    assert tested.parsed.id in [delivery.id for delivery in deliveries.results]

    # Support staff revoke the certificate; the public verification then says it is not valid.
    support = grant(UserFactory(email="support@example.com", is_staff=True), "certificates.change_certificate")
    support_token = _api(package, "auth.auth_token_create").sync(
        client=anonymous,
        body=_model(package, "CredentialsRequest")(email=support.email, password="correct-horse-battery"),
    )
    support_client = package.AuthenticatedClient(
        base_url=live_server.url, token=support_token.token, prefix="Token", raise_on_unexpected_status=True
    )
    revoked = _api(package, "certificates.certificates_revoke_create").sync(
        client=support_client,
        id=certificate.id,
        body=_model(package, "CertificateRevokeRequest")(reason="Issued in error"),
    )
    assert revoked.status == "revoked"
    again = _api(package, "certificates.certificates_verify_retrieve").sync(client=anonymous, code=certificate.code)
    assert again.valid is False and again.revoked_at is not None

"""Fixtures shared by the import tests: staff holding exactly the import permissions, and a course."""

import pytest

from tests.courses.factories import CourseFactory
from tests.jobs.factories import staff_with

IMPORT_PERMS = ["imports.view_importjob", "imports.add_importjob", "imports.control_importjob"]


@pytest.fixture
def staff(db):
    return staff_with(*IMPORT_PERMS, email="staff@example.com")


@pytest.fixture
def staff_api(api_client, staff):
    api_client.force_authenticate(staff)
    return api_client


@pytest.fixture
def course(db):
    return CourseFactory(slug="python-101")

"""`core.permissions.held`: the one-query answer matches Django's ModelBackend for direct and group
permissions, inactive users and superusers, and never matches a codename of another app."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from core.permissions import held, holds
from tests.jobs.factories import UserFactory

pytestmark = pytest.mark.django_db

ASKED = {"reports.view_report", "imports.view_importjob", "imports.control_importjob", "courses.view_course"}


def _perm(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_direct_and_group_permissions_count_and_nothing_else_does():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(_perm("reports.view_report"))
    group = Group.objects.create(name="Importers")
    group.permissions.add(_perm("imports.view_importjob"), _perm("enrollments.view_enrollment"))
    user.groups.add(group)
    Group.objects.create(name="Not theirs").permissions.add(_perm("imports.control_importjob"))

    assert held(user, ASKED) == {"reports.view_report", "imports.view_importjob"}
    assert held(user, ASKED) == {perm for perm in ASKED if get_user_model().objects.get(pk=user.pk).has_perm(perm)}
    assert holds(user, "imports.view_importjob") and not holds(user, "imports.control_importjob")
    assert held(user, {"reports.view_importjob", "view_report.reports"}) == set()  # names never cross apps


def test_inactive_users_hold_nothing_and_superusers_everything_asked():
    inactive = UserFactory(is_active=False)
    inactive.user_permissions.add(_perm("reports.view_report"))
    superuser = UserFactory(is_superuser=True)

    assert held(inactive, ASKED) == set()
    assert held(superuser, ASKED) == ASKED
    assert held(superuser, set()) == set()

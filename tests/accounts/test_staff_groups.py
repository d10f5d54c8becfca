"""The recommended staff groups: created by one command, reset by it, and enough for every staff surface."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from accounts.staff_groups import STAFF_GROUPS
from tests.jobs.factories import UserFactory
from tests.jobs.test_admin_actions import ACTIONS
from tests.jobs.test_staff_permissions import PUBLIC_URL, SURFACES

pytestmark = pytest.mark.django_db


def group_perms(name: str) -> set[str]:
    perms = Group.objects.get(name=name).permissions.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in perms}


def test_the_command_creates_the_groups_and_resets_them_to_their_documented_permissions():
    call_command("create_staff_groups")
    support = Group.objects.get(name="Support")
    support.permissions.add(Permission.objects.get(codename="add_webhookendpoint"))  # granted by hand
    call_command("create_staff_groups")

    assert {name: group_perms(name) for name in STAFF_GROUPS} == {
        name: set(perms) for name, perms in STAFF_GROUPS.items()
    }
    assert Group.objects.count() == len(STAFF_GROUPS)


def test_every_staff_surface_and_admin_action_is_granted_by_some_group():
    granted = {perm for perms in STAFF_GROUPS.values() for perm in perms}
    needed = {surface.perm for surface in SURFACES} | {perm for action in ACTIONS for perm in action.perms}
    assert needed - granted == set()


@pytest.mark.parametrize(
    ("group", "method", "url", "status"),
    [
        ("Support", "post", "/api/webhooks/endpoints/", 403),
        ("Support", "get", "/api/webhooks/deliveries/", 403),
        ("Support", "get", "/admin/jobs/job/operations/", 403),
        ("Integrator", "post", "/api/webhooks/endpoints/", 201),
        ("Integrator", "get", "/admin/jobs/job/operations/", 403),
        ("Operator", "get", "/admin/jobs/job/operations/", 200),
        ("Operator", "post", "/api/webhooks/endpoints/", 403),
        ("Course editor", "get", "/api/imports/", 403),
    ],
)
def test_a_group_member_may_do_their_role_and_no_more(api_client, group, method, url, status):
    call_command("create_staff_groups")
    member = UserFactory(is_staff=True)
    member.groups.add(Group.objects.get(name=group))
    api_client.force_login(member)
    assert getattr(api_client, method)(url, {"url": PUBLIC_URL}, format="json").status_code == status

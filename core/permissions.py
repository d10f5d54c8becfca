"""Staff permissions, one rule for the API and the pages: a named Django permission, never `is_staff` alone.

`is_staff` only lets a user into the admin; what they may read or change there and through the API is
decided by model permissions (`notifications.add_webhookendpoint`) or the custom ones the models declare
in `Meta.permissions` (`jobs.view_operations`, `imports.control_importjob`). docs/security.md lists
them and the groups that bundle them.
"""

from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """DRF's model permissions, with reads needing `view_*` too.

    DRF's default map lets any authenticated user GET; staff data (deliveries carry learners' emails) is
    read only by those given the view permission.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


def has_perms(*perms: str) -> type[BasePermission]:
    """A DRF permission class requiring every one of `perms` (for views without a model queryset)."""

    class HasPerms(BasePermission):
        def has_permission(self, request, view) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.has_perms(perms))

    HasPerms.__name__ = f"HasPerms({', '.join(perms)})"
    return HasPerms


def staff_permission_required(perm: str):
    """For staff pages: visitors who are not staff go to the admin login; staff without `perm` get 403."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return staff_member_required(checked)

    return decorator


def _held_sql(count: int) -> str:
    """SELECT of which of `count` named permissions (parameters: the names, then the user's id twice) the
    user holds directly or through a group."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    quote = connection.ops.quote_name
    permission, content_type = quote(Permission._meta.db_table), quote(ContentType._meta.db_table)
    direct = quote(get_user_model().user_permissions.through._meta.db_table)
    by_group = quote(Group.permissions.through._meta.db_table)
    in_group = quote(get_user_model().groups.through._meta.db_table)
    names = ", ".join(["%s"] * count)
    return (
        f"SELECT ct.app_label || '.' || p.codename FROM {permission} p "  # noqa: S608 - quoted names, values bound
        f"JOIN {content_type} ct ON ct.id = p.content_type_id "
        f"WHERE ct.app_label || '.' || p.codename IN ({names}) "
        f"AND (p.id IN (SELECT d.permission_id FROM {direct} d WHERE d.user_id = %s) "
        f"OR p.id IN (SELECT gp.permission_id FROM {by_group} gp JOIN {in_group} ug ON ug.group_id = gp.group_id "
        f"WHERE ug.user_id = %s))"
    )


def held(user, perms: set[str]) -> set[str]:
    """Which of `perms` ("app_label.codename") `user` holds, in one query.

    For lists every learner reads (their enrollments, their certificates) where holders of a view
    permission read everyone's, and for the operations clients poll: `user.has_perm` would load all of the
    user's permissions in two queries (docs/performance.md, P7), and the same query through the ORM costs
    more to build than to run (P10). A condition inside the list's own query would save even this one,
    but an `OR EXISTS (...)` beside `learner_id = ...` keeps PostgreSQL from using the learner's index.
    Same answer as ModelBackend: a direct or a group permission of an active user; active superusers hold
    every one.
    """
    from django.db import connection

    if not (user.is_active and perms):
        return set()
    if user.is_superuser:
        return set(perms)
    names = sorted(perms)
    with connection.cursor() as cursor:
        cursor.execute(_held_sql(len(names)), [*names, user.pk, user.pk])
        return {name for (name,) in cursor.fetchall()}


def holds(user, perm: str) -> bool:
    """Whether `user` holds `perm`, in one query (see `held`)."""
    return perm in held(user, {perm})

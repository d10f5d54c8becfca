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


def held(user, perms: set[str]) -> set[str]:
    """Which of `perms` ("app_label.codename") `user` holds, in one query.

    For lists every learner reads (their enrollments, their certificates) where holders of a view
    permission read everyone's, and for the operations clients poll: `user.has_perm` would load all of the
    user's permissions in two queries (docs/performance.md, P7 and P10). A condition inside the list's own
    query would save even this one, but an `OR EXISTS (...)` beside `learner_id = ...` keeps PostgreSQL
    from using the learner's index. Same answer as ModelBackend: a direct or a group permission of an
    active user; active superusers hold every one.
    """
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    if not (user.is_active and perms):
        return set()
    if user.is_superuser:
        return set(perms)
    named = Q()
    for perm in perms:
        app_label, codename = perm.split(".")
        named |= Q(content_type__app_label=app_label, codename=codename)
    granted = Permission.objects.filter(named).filter(Q(user=user.pk) | Q(group__user=user.pk))
    return {f"{app}.{codename}" for app, codename in granted.values_list("content_type__app_label", "codename")}


def holds(user, perm: str) -> bool:
    """Whether `user` holds `perm`, in one query (see `held`)."""
    return perm in held(user, {perm})

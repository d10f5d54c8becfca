"""factory_boy factories for accounts."""

import factory
from django.contrib.auth import get_user_model


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"learner{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct-horse-battery")


def grant(user, *perms: str):
    """Give `user` the permissions named "app_label.codename" (and drop the cached ones)."""
    from django.contrib.auth.models import Permission

    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


def staff_with(*perms: str, **fields):
    """A staff user holding exactly `perms` (none: staff who may log into the admin and do nothing there)."""
    return grant(UserFactory(is_staff=True, **fields), *perms)

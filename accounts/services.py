"""Writes for accounts: registration, profile changes, password reset mail, API token revocation."""

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from accounts.signals import password_reset_requested, user_name_changed, user_registered

User = get_user_model()

EMAIL_TAKEN = "An account with this email already exists."


def user_register(*, email: str, password: str, full_name: str = "") -> User:
    """Create a learner account. Sends `user_registered` (welcome mail is queued by listeners).

    Raises ValidationError with field messages for a taken email or a weak password.
    """
    email = User.objects.normalize_email(email).strip().lower()
    candidate = User(email=email, full_name=full_name.strip())
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from None  # keeps the codes (password_too_short)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": ValidationError(EMAIL_TAKEN, code="unique")})
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, full_name=candidate.full_name)
            user_registered.send(sender=User, user_id=user.pk)
    except IntegrityError:  # a concurrent sign-up with the same address won the race
        raise ValidationError({"email": ValidationError(EMAIL_TAKEN, code="unique")}) from None
    return user


def user_update_profile(*, user: User, full_name: str) -> User:
    """Save the profile. Sends `user_name_changed` when the name changed to a non-empty one (a
    certificate that waited for the learner's name is issued then)."""
    full_name = full_name.strip()
    changed = full_name != user.full_name
    with transaction.atomic():
        user.full_name = full_name
        user.save(update_fields=["full_name"])
        if changed and full_name:
            user_name_changed.send(sender=User, user_id=user.pk)
    return user


def password_reset_request(*, email: str) -> None:
    """Announce a reset request for the active account at `email` (the mail is sent by listeners).

    Unknown addresses do nothing and say nothing, so the form cannot be used to probe for accounts.
    Accounts without a password (imported learners) may use it to set their first one.
    """
    for user in User.objects.filter(email__iexact=email.strip(), is_active=True):
        password_reset_requested.send(sender=User, user_id=user.pk, request_id=uuid.uuid4().hex)


def user_tokens_revoke(*, user) -> int:
    """Delete the account's API tokens; returns how many. Side effect: those tokens answer 401 from now on.

    Called on logout (page, admin and POST /api/auth/logout/) and by User.save() whenever the password
    changed (change, reset, admin), so a token stolen or leaked under the old password dies with it.
    """
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted

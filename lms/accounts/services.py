"""Writes for accounts: registration, profile changes, password reset mail."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from lms.accounts.signals import user_registered
from lms.tasks import enqueue

User = get_user_model()


def user_register(*, email: str, password: str, full_name: str = "") -> User:
    """Create a learner account. Sends `user_registered` (welcome mail is queued by listeners).

    Raises ValidationError with field messages for a taken email or a weak password.
    """
    email = User.objects.normalize_email(email).strip().lower()
    candidate = User(email=email, full_name=full_name.strip())
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "An account with this email already exists."})
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, full_name=candidate.full_name)
            user_registered.send(sender=User, user_id=user.pk)
    except IntegrityError:  # a concurrent sign-up with the same address won the race
        raise ValidationError({"email": "An account with this email already exists."}) from None
    return user


def user_update_profile(*, user: User, full_name: str) -> User:
    user.full_name = full_name.strip()
    user.save(update_fields=["full_name"])
    return user


def password_reset_request(*, email: str) -> None:
    """Queue a reset mail for each active account with a usable password at `email`.

    Unknown addresses do nothing and say nothing, so the form cannot be used to probe for accounts.
    The token is made by the worker, so it never sits in the broker or in stored task arguments.
    """
    from lms.accounts.tasks import password_reset_send_task

    for user in User.objects.filter(email__iexact=email.strip(), is_active=True):
        if user.has_usable_password() or not user.last_login:
            enqueue(password_reset_send_task, user_id=user.pk)

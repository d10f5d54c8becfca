"""Account tasks: thin wrappers that load fresh rows and call a mail builder."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


@shared_task(name="accounts.send_password_reset", soft_time_limit=20, time_limit=30, max_retries=5)
def password_reset_send_task(user_id: int) -> str | None:
    """Send the password-reset mail. Rerunning sends another valid link, which is harmless."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    context = {
        "user": user,
        "site_name": settings.SITE_NAME,
        "reset_url": settings.SITE_URL
        + f"/accounts/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/",
    }
    subject = f"Reset your {settings.SITE_NAME} password"
    message = EmailMultiAlternatives(
        subject, render_to_string("registration/password_reset_email.txt", context), to=[user.email]
    )
    message.attach_alternative(render_to_string("registration/password_reset_email.html", context), "text/html")
    message.send()
    return user.email

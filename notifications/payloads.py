"""The `data` of webhook events: small dicts of ids, emails, slugs, status and URLs, never whole objects.

Each builder takes the object's id and returns None when the object no longer exists (deleted before the
fan-out ran). notifications.events names which builder each event type uses.
"""

from django.conf import settings
from django.urls import reverse


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def enrollment_data(object_id: int) -> dict | None:
    from enrollments.models import Enrollment

    enrollment = Enrollment.objects.select_related("learner", "course").filter(pk=object_id).first()
    if enrollment is None:
        return None
    return {
        "enrollment_id": enrollment.pk,
        "learner_id": enrollment.learner_id,
        "learner_email": enrollment.learner.email,
        "course_slug": enrollment.course.slug,
        "course_title": enrollment.course.title,
        "status": enrollment.status,
        "progress_percent": enrollment.progress_percent,
        "completed_at": enrollment.completed_at.isoformat() if enrollment.completed_at else None,
        "course_url": _absolute(enrollment.course.get_absolute_url()),
        "enrollment_api_url": _absolute(reverse("api-enrollment-detail", kwargs={"pk": enrollment.pk})),
    }


def certificate_data(object_id: int) -> dict | None:
    from certificates.models import Certificate

    certificate = (
        Certificate.objects.select_related("enrollment__learner", "enrollment__course").filter(pk=object_id).first()
    )
    if certificate is None:
        return None
    return {
        "certificate_id": certificate.pk,
        "enrollment_id": certificate.enrollment_id,
        "learner_email": certificate.enrollment.learner.email,
        "course_slug": certificate.enrollment.course.slug,
        "status": certificate.status,
        "issued_at": certificate.issued_at.isoformat() if certificate.issued_at else None,
        "revoked_at": certificate.revoked_at.isoformat() if certificate.revoked_at else None,
        "verification_url": certificate.get_verification_url(),
        "certificate_api_url": _absolute(reverse("api-certificate-detail", kwargs={"pk": certificate.pk})),
        "enrollment_api_url": _absolute(reverse("api-enrollment-detail", kwargs={"pk": certificate.enrollment_id})),
    }

"""Reads for certificates. Ownership is part of the query, so others' rows are simply not found."""

from django.db.models import QuerySet

from certificates.models import Certificate, normalize_code
from core.permissions import holds


def certificate_list_for_user(*, user) -> QuerySet[Certificate]:
    return Certificate.objects.filter(enrollment__learner=user).select_related("enrollment__course")


def certificate_list_readable(*, user) -> QuerySet[Certificate]:
    """What `user` may read through the API: every certificate for holders of `certificates.view_certificate`
    (staff, service accounts of integrations), their own for everyone else."""
    may_read_all = holds(user, "certificates.view_certificate")
    rows = Certificate.objects.all() if may_read_all else Certificate.objects.filter(enrollment__learner=user)
    return rows.select_related("enrollment__course", "enrollment__learner").order_by("-created_at", "-id")


def certificate_get_for_download(*, user, certificate_id: int) -> Certificate:
    """The learner's own certificate, or any for staff who may view certificates; DoesNotExist otherwise
    (answered 404)."""
    may_view_all = user.has_perm("certificates.view_certificate")
    if may_view_all:
        queryset = Certificate.objects.all()
    else:
        # A certificate awaiting the learner's name may still hold a PDF issued to their email address (made
        # before names were required): the learner gets it again only once it is issued to their name.
        queryset = certificate_list_for_user(user=user).exclude(status=Certificate.Status.AWAITING_NAME)
    return queryset.exclude(pdf="").get(pk=certificate_id)


def certificate_get_by_code(*, code: str) -> Certificate:
    """A certificate that has been issued (valid or revoked) by its verification code."""
    return Certificate.objects.filter(
        status__in=[Certificate.Status.ISSUED, Certificate.Status.REVOKED], code=normalize_code(code)
    ).get()


def certificate_get(*, certificate_id: int) -> Certificate:
    """Any certificate by id, for staff operations whose permission was checked before (DoesNotExist: 404)."""
    return Certificate.objects.select_related("enrollment__course").get(pk=certificate_id)

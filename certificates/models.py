import base64
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from enrollments.models import Enrollment

CODE_BYTES = 15  # 120 random bits: far past guessing or enumerating


def new_verification_code() -> str:
    """24 base32 characters (A-Z, 2-7): URL-safe, case-insensitive, no 0/O or 1/I to confuse."""
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")


def normalize_code(typed: str) -> str:
    """What a person typed (any case, spaces or dashes between groups) as the stored code."""
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())


class Certificate(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        # The learner has no name yet: nothing is rendered until they give one (the dashboard asks).
        AWAITING_NAME = "awaiting_name", "Awaiting the learner's name"
        RENDERING = "rendering", "Rendering"
        ISSUED = "issued", "Issued"
        FAILED = "failed", "Failed"
        REVOKED = "revoked", "Revoked"

    enrollment = models.OneToOneField(Enrollment, on_delete=models.PROTECT, related_name="certificate")
    code = models.CharField(max_length=32, unique=True, default=new_verification_code, editable=False)
    # Snapshots at issue time: a later rename of the learner or the course does not rewrite history.
    learner_name = models.CharField(max_length=200)
    course_title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    pdf = models.FileField(upload_to="certificates/", blank=True)
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64, blank=True)
    template_version = models.CharField(max_length=16, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    render_task_id = models.CharField(max_length=255, blank=True)
    render_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Every write sets it, `update()`s included (they name it): the API's `updated_since` reads it.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="revoked") | Q(revoked_at__isnull=False), name="certificates_revoked_has_date"
            ),
            models.CheckConstraint(
                condition=~Q(status="issued") | (Q(issued_at__isnull=False) & ~Q(pdf_sha256="")),
                name="certificates_issued_has_pdf",
            ),
            # A certificate is issued to a name, never to an empty string (or, by the service, an email).
            models.CheckConstraint(
                condition=~Q(status="issued") | ~Q(learner_name=""), name="certificates_issued_has_name"
            ),
        ]
        # The incremental sync's order and range: `?updated_since=` (docs/api.md).
        indexes = [models.Index(fields=["updated_at", "id"], name="certificates_updated_at_id")]

    def __str__(self) -> str:
        return f"{self.course_title} — {self.learner_name} ({self.display_code})"

    def get_absolute_url(self) -> str:
        return reverse("certificate_detail", kwargs={"pk": self.pk})

    def get_verification_url(self) -> str:
        return settings.SITE_URL + reverse("certificate_verify", kwargs={"code": self.code})

    def get_download_url(self) -> str:
        return reverse("certificate_download", kwargs={"pk": self.pk})

    @property
    def display_code(self) -> str:
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))

    @property
    def is_valid(self) -> bool:
        return self.status == self.Status.ISSUED

    @property
    def is_revoked(self) -> bool:
        return self.status == self.Status.REVOKED

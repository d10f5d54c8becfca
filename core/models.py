"""Rows of the API-wide machinery: the responses replayed for an Idempotency-Key (core.idempotency)."""

from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed for the same key and user."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)  # null while in progress
    response_headers = models.JSONField(default=dict)
    response_body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "lms_idempotencyrecord"  # its name from the lms app (core/migrations/0001)
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="lms_idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"

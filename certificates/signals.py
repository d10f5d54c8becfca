"""Domain signals of the certificates app (sent inside the service's transaction)."""

from django.dispatch import Signal

certificate_issued = Signal()  # kwargs: certificate_id; sent once, at first issue
certificate_revoked = Signal()  # kwargs: certificate_id

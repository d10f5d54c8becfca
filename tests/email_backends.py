"""anymail's test backend with scripted provider errors, chosen by the recipient's address, so a worker
process (which has its own outbox) fails the same way the test process would:

- ``name+transient2@...``: the provider answers 503 to the first two sends, then accepts;
- ``name+permanent@...``: the provider refuses the recipient (a permanent error).
The counter lives in Redis so every worker process sees the same count.
"""

import re

import redis
import requests
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailRecipientsRefused, AnymailRequestsAPIError
from django.conf import settings


def _unavailable() -> requests.Response:
    response = requests.Response()
    response.status_code, response.reason, response._content = 503, "Service Unavailable", b"try later"
    response.url = "https://provider.invalid/send"
    return response


class ScriptedEmailBackend(AnymailTestBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            for recipient in message.to:
                match = re.search(r"\+transient(\d+)@", recipient)
                if match:
                    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
                    if client.incr(f"test-email-failures:{recipient}") <= int(match.group(1)):
                        raise AnymailRequestsAPIError("provider unavailable (scripted)", response=_unavailable())
                if "+permanent@" in recipient:
                    raise AnymailRecipientsRefused("recipient refused (scripted)")
        return super().send_messages(email_messages)

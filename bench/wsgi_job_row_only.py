"""The project's WSGI app with the durable enqueue cut down to its Job row: P1's reference point between
"enqueue disabled" and the real thing. Bench only; gunicorn loads it as `bench.wsgi_job_row_only:application`.

`enqueue` writes the outbox row in the caller's transaction as always; the after-commit publish (the Redis
LPUSH) and the "published" mark are skipped. What is left is the part no relay or broker change can remove
from the request, so P1 reports it beside the two configurations it compares.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
application = get_wsgi_application()


def _publish_skipped(job, **kwargs) -> bool:
    return True


def _skip_publish() -> None:
    import jobs.enqueue

    # `enqueue`'s after-commit hook looks `publish` up in jobs.enqueue when it runs, so this one name is enough.
    jobs.enqueue.publish = _publish_skipped


_skip_publish()

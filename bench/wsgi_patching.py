"""What the bench's variant WSGI apps share: the project's application, and a way to swap its enqueue."""

import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
application = get_wsgi_application()


def replace_enqueue(replacement) -> int:
    """Put `replacement` in place of `jobs.enqueue.enqueue` everywhere it was imported; returns how many
    modules held it. Services import `enqueue` by name (`from jobs.enqueue import enqueue`), so every loaded
    module holding that function gets the replacement, after the URLconf (and with it every view and
    service module) is imported."""
    from django.urls import get_resolver

    import jobs.enqueue

    get_resolver().url_patterns  # noqa: B018 - imports every view, and so every service module
    original = jobs.enqueue.enqueue
    patched = 0
    for module in list(sys.modules.values()):
        if getattr(module, "enqueue", None) is original:
            module.enqueue = replacement
            patched += 1
    return patched

#!/usr/bin/env python
"""Django's command-line utility, with configuration errors reduced to one readable line."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A missing SECRET_KEY or malformed DATABASE_URL is an operator's fix, not a traceback to read.
        sys.exit(f"lms: configuration error: {exc}")
    except Exception as exc:
        from django.db.utils import OperationalError

        if isinstance(exc, OperationalError):
            from core.reachability import check_database

            sys.exit(f"lms: {check_database() or exc}")
        raise


if __name__ == "__main__":
    main()

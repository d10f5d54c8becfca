"""Start-up checks that turn an unreachable database or broker into one line saying what to fix."""

from urllib.parse import urlsplit, urlunsplit


def redact_url(url: str) -> str:
    """The URL with its password replaced, safe to print."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def check_database() -> str | None:
    """Return a one-line problem description, or None when the default database answers."""
    from django.db import connection
    from django.db.utils import Error

    try:
        connection.ensure_connection()
    except Error as exc:
        settings = connection.settings_dict
        engine = settings.get("ENGINE", "").rsplit(".", 1)[-1]
        where = f"{engine} {settings.get('HOST') or ''}:{settings.get('PORT') or ''}/{settings.get('NAME')}"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"Cannot reach the database ({where}): {reason}. Start the database server or fix DATABASE_URL "
            f"(unset it to use the embedded SQLite default)."
        )
    return None


def check_broker(timeout: float = 2.0) -> str | None:
    """Return a one-line problem description, or None when the Celery broker answers."""
    from django.conf import settings
    from kombu import Connection

    url = settings.CELERY_BROKER_URL
    try:
        # A fresh connection, not the pool's: a health check must see the broker as it is now.
        with Connection(url, connect_timeout=timeout, transport_options={"socket_timeout": timeout}) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # kombu surfaces transport-specific errors
        return (
            f"Cannot reach the Celery broker at {redact_url(url)}: {str(exc).rstrip('.')}. "
            "Start Redis or fix CELERY_BROKER_URL (unset it under `make run` to use the embedded Redis)."
        )
    return None

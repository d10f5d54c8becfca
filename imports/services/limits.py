"""The IMPORT_* settings, read when used (never at import time), with their defaults."""

from django.conf import settings

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_CHUNK_ROWS = 2000
DEFAULT_TASK_BUDGET_SECONDS = 20
DEFAULT_NOTIFY_BATCH_ROWS = 1000


def setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def import_max_bytes() -> int:
    return setting("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def chunk_rows() -> int:
    return max(1, setting("IMPORT_CHUNK_ROWS", DEFAULT_CHUNK_ROWS))


def task_budget_seconds() -> int:
    return setting("IMPORT_TASK_BUDGET_SECONDS", DEFAULT_TASK_BUDGET_SECONDS)


def notify_batch_rows() -> int:
    return setting("IMPORT_NOTIFY_BATCH_ROWS", DEFAULT_NOTIFY_BATCH_ROWS)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def too_large_message(size: int | None) -> str:
    limit = import_max_bytes()
    found = f"The file is {_megabytes(size)}" if size else "The file is too large"
    return f"{found}; the limit is {_megabytes(limit)}. Split it into smaller files."

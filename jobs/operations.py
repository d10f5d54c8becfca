"""Long operations clients follow (jobs.models.Operation): starting one at a time, reporting progress
cheaply, finishing, cancelling; and the registry of kinds, through which each app says who may see its
operations and what cancelling one means (the jobs app knows no app).

    request:  operation_start(kind, subject, ...)  -> (operation, created); the owner queues its task
    task:     operation_run -> ProgressReporter.advance(...) ... -> operation_complete | operation_fail
    anyone:   operation_cancel -> state "cancelled" at once; the task's next progress write is refused
              (ProgressReporter raises OperationCancelled) and it cleans up after itself
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.models import Operation

State = Operation.State


@dataclass(frozen=True)
class OperationKind:
    kind: str
    permission: str  # "app_label.codename": who may see and cancel operations of this kind
    label: str
    cancel_permission: str  # who may cancel them (often the same permission)
    # The owner's own cancel (an import's), if any: ends the owner's row (and so the operation); True if
    # it cancelled something.
    on_cancel: Callable[[Operation], bool] | None = None


_KINDS: dict[str, OperationKind] = {}


def operation_kind(kind: str, *, permission: str, label: str, cancel_permission: str = "", on_cancel=None) -> None:
    """Declare a kind of operation (in the owner app's AppConfig.ready)."""
    _KINDS[kind] = OperationKind(kind, permission, label, cancel_permission or permission, on_cancel)


def operation_kinds() -> dict[str, OperationKind]:
    return dict(_KINDS)


def kind_of(operation: Operation) -> OperationKind | None:
    return _KINDS.get(operation.kind)


class OperationCancelled(Exception):
    """The operation was cancelled (or ended otherwise) while its task ran: stop and clean up."""


def operation_start(*, kind: str, subject: str = "", started_by=None, message: str = "") -> tuple[Operation, bool]:
    """A new queued operation, or the queued or running one of the same kind and subject.

    The database decides (a partial unique index), not a check-then-insert: of two requests at once, one
    creates and the other gets the first one's row. Call inside the caller's transaction, with the task
    queued in the same one.
    """
    if kind not in _KINDS:
        raise ValueError(f"Unknown operation kind {kind!r}")
    user = started_by if getattr(started_by, "is_authenticated", False) else None
    for _ in range(3):
        try:
            with transaction.atomic():
                operation = Operation.objects.create(kind=kind, subject=subject, started_by=user, message=message)
            return operation, True
        except IntegrityError:
            if not subject:
                raise
        running = Operation.objects.filter(kind=kind, subject=subject, state__in=Operation.ACTIVE).first()
        if running is not None:
            return running, False
        # It finished between our insert and our read: try again.
    raise IntegrityError(f"Could not start or find the {kind} operation for {subject!r}")


def operation_running(*, operation_id: int, message: str = "") -> Operation:
    """Mark a queued operation running; OperationCancelled if it ended before its task started."""
    now = timezone.now()
    moved = Operation.objects.filter(pk=operation_id, state=State.QUEUED).update(
        state=State.RUNNING, started_at=now, message=message[:500], updated_at=now
    )
    operation = Operation.objects.get(pk=operation_id)
    if not moved and operation.state != State.RUNNING:
        raise OperationCancelled(operation.state)
    return operation


def operation_progress(*, operation_id: int, completion: int, message: str | None = None) -> None:
    """Write the completion (0-99 while running); OperationCancelled when the operation is no longer
    running (cancelled by staff, or failed by a sweeper)."""
    now = timezone.now()
    fields = {"completion": max(0, min(99, completion)), "updated_at": now}
    if message is not None:
        fields["message"] = message[:500]
    if not Operation.objects.filter(pk=operation_id, state=State.RUNNING).update(**fields):
        raise OperationCancelled(operation_id)


def _finish(operation_id: int, state: str, **fields) -> bool:
    now = timezone.now()
    finished = Operation.objects.filter(pk=operation_id, state__in=Operation.ACTIVE).update(
        state=state, finished_at=now, updated_at=now, **fields
    )
    return bool(finished)


def operation_complete(*, operation_id: int, result_url: str = "", message: str = "") -> bool:
    """Completed at 100 %; False (nothing written) if it had ended already (cancelled meanwhile)."""
    return _finish(operation_id, State.COMPLETED, completion=100, result_url=result_url, message=message[:500])


def operation_fail(*, operation_id: int, message: str) -> bool:
    return _finish(operation_id, State.FAILED, message=(message or "The operation failed.")[:500])


def operation_mirror(*, operation_id: int, state: str, completion: int, message: str = "", result_url: str = ""):
    """Copy an owner's own progress row onto its operation (imports keep their detailed row and mirror
    it here), whatever the operation's state was, unless it is finished already."""
    fields = {"state": state, "completion": max(0, min(100, completion)), "message": message[:500]}
    if result_url:
        fields["result_url"] = result_url
    now = timezone.now()
    if state == State.RUNNING:
        fields["started_at"] = now
        Operation.objects.filter(pk=operation_id, state=State.QUEUED).update(updated_at=now, **fields)
        fields.pop("started_at")
        Operation.objects.filter(pk=operation_id, state=State.RUNNING).update(updated_at=now, **fields)
    elif state == State.QUEUED:
        Operation.objects.filter(pk=operation_id, state=State.QUEUED).update(updated_at=now, **fields)
    else:
        Operation.objects.filter(pk=operation_id, state__in=Operation.ACTIVE).update(
            finished_at=now, updated_at=now, **fields
        )


def operation_cancel(*, operation: Operation) -> bool:
    """Cancel a queued or running operation; False when it had finished. The owner's cancel runs first
    (an import stops after the chunk being written), then the row ends "cancelled" at once."""
    if operation.is_finished:
        return False
    kind = kind_of(operation)
    with transaction.atomic():
        cancelled = bool(kind is not None and kind.on_cancel is not None and kind.on_cancel(operation))
        cancelled = _finish(operation.pk, State.CANCELLED, message="Cancelled.") or cancelled
    operation.refresh_from_db()
    return cancelled


class ProgressReporter:
    """Progress of a task over `total` items, written only when the whole percent changes and at least
    `min_interval` seconds after the last write (or `max_interval` seconds passed): a handful of small
    UPDATEs per operation, never one per row. Raises OperationCancelled from `advance` once the operation
    is no longer running."""

    def __init__(self, operation_id: int, total: int, *, min_interval: float = 0.5, max_interval: float = 5.0):
        self.operation_id = operation_id
        self.total = max(total, 0)
        self.done = 0
        self.min_interval, self.max_interval = min_interval, max_interval
        self.written_percent = -1
        self.written_at = 0.0

    @property
    def percent(self) -> int:
        return (self.done * 100) // self.total if self.total else 0

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        elapsed = now - self.written_at
        changed = self.percent != self.written_percent
        if (changed and elapsed >= self.min_interval) or elapsed >= self.max_interval:
            self.write(now)

    def write(self, now: float | None = None) -> None:
        operation_progress(operation_id=self.operation_id, completion=self.percent)
        self.written_percent, self.written_at = self.percent, now or time.monotonic()

"""Stripe-style `Idempotency-Key` for the API's POST endpoints.

A client that may retry a POST (a timeout, a dropped connection) sends a key of its choosing. The first
response to (user, key) is stored and replayed, byte for byte, to every retry within 24 hours, without
running the view again: a retried enrollment or lesson completion answers what the first one answered
and queues no second job. The same key with a different request is a 422; the same key while the first
request is still running is a 409. Requests without the header are not touched.

It is a Django middleware rather than a DRF view mixin so it covers every POST under /api/, present and
future, with one settings line and no change to the views. The price is that DRF authenticates inside the
view, so the middleware authenticates the request itself, with the resolved view's own authentication
classes (token, session with its CSRF check, or none at all for register and token): the user it scopes
the key to is exactly the user the view will see. That costs the token lookup once more, and only for
requests that carry the header.
"""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.errors import error_body
from core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
TTL = timedelta(hours=24)
# A record still "in progress" after this long belongs to a request whose process died before storing
# the response (a worker killed on timeout). It is then treated as absent, as an expired one is, rather
# than answering 409 to every retry for a day. Far longer than any request may run.
ABANDONED_AFTER = timedelta(minutes=5)
API_PREFIX = "/api/"
# Only these response headers are stored and replayed; the rest (cookies, Vary, security headers) are
# added afresh by the middleware stack on every response.
STORED_HEADERS = ("Content-Type", "Location")
# Not stored, so a retry runs the view again: a server error (the client should be able to retry), and
# refusals that happen before the view's work starts (credentials, permission, throttling), which say
# nothing about the request's content and may well succeed a moment later.
UNSTORED_STATUSES = frozenset({401, 403, 429})

KEY_INVALID = f"Must be 1 to {KEY_MAX_LENGTH} printable ASCII characters."
KEY_REUSED = "This Idempotency-Key was used with a different request."
KEY_IN_PROGRESS = "A request with this Idempotency-Key is still being processed. Retry shortly."


def idempotency_key_is_valid(key: str) -> bool:
    return 0 < len(key) <= KEY_MAX_LENGTH and all(" " <= char <= "~" for char in key)


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """SHA-256 over method, path (with query string) and the raw body bytes."""
    digest = hashlib.sha256()
    # NUL cannot occur in a method or an escaped path, so the three parts cannot run into each other.
    digest.update(f"{method}\0{path}\0".encode())
    digest.update(body)
    return digest.hexdigest()


def idempotency_record_claim(
    *, user, key: str, method: str, path: str, fingerprint: str, now=None
) -> tuple[IdempotencyRecord | None, bool]:
    """Claim `key` for `user` by inserting an in-progress record; returns (record, claimed).

    When the key is already held, returns the live record holding it with claimed=False (None in the
    unlikely case that it vanished again between attempts: treat that as in progress). An expired or
    abandoned record is deleted and the claim retried. Side effects: inserts (and may delete) one row,
    each in its own short transaction, so the claim is visible to concurrent requests at once.
    """
    now = now or timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=method,
                    path=path[:500],
                    request_fingerprint=fingerprint,
                    expires_at=now + TTL,
                )
            return record, True
        except IntegrityError:  # the unique (user, key): another request holds it
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:  # finished with a 5xx or pruned since our insert: try again
            continue
        abandoned = existing.response_status is None and existing.created_at <= now - ABANDONED_AFTER
        if existing.expires_at > now and not abandoned:
            return existing, False
        # Delete only the row we judged dead, never one a concurrent request just made.
        IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
    return None, False


def idempotency_record_finish(*, record: IdempotencyRecord, response: HttpResponse | None) -> bool:
    """Store `response` as the answer to `record`'s key, or release the key; returns True if stored.

    `response` is None when the view raised. Nothing is stored then, nor for a 5xx, a 401/403/429 or a
    streaming response: the in-progress record is deleted so the client's retry runs the view again.
    Side effects: one UPDATE or DELETE of the record.
    """
    pending = IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True)
    if (
        response is None
        or response.status_code >= 500
        or response.status_code in UNSTORED_STATUSES
        or response.streaming
    ):
        pending.delete()
        return False
    headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    return bool(
        pending.update(response_status=response.status_code, response_headers=headers, response_body=response.content)
    )


def idempotency_records_prune(*, now=None) -> int:
    """Delete expired records; returns how many. Side effect: one DELETE."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.response_status)
    if "Content-Type" not in record.response_headers:
        del response["Content-Type"]
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _json_response(data: dict, *, status: int, **headers) -> HttpResponse:
    # DRF's renderer, so these answers are byte-compatible with the API's own JSON errors.
    return HttpResponse(JSONRenderer().render(data), status=status, content_type="application/json", headers=headers)


def _authenticated_user(request: HttpRequest, view_func):
    """The user the view will authenticate, or None (anonymous, or credentials the view will refuse)."""
    view_class = getattr(view_func, "cls", None)
    if view_class is None or not issubclass(view_class, APIView):
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None
    classes = getattr(view_func, "initkwargs", {}).get("authentication_classes", view_class.authentication_classes)
    # DRF's own Request, so forced authentication (APIClient.force_authenticate) is honoured as in the view.
    drf_request = Request(request, authenticators=[auth() for auth in classes])
    for authenticator in drf_request.authenticators:
        try:
            user_auth = authenticator.authenticate(drf_request)
        except exceptions.APIException:  # bad token, CSRF failure: the view answers 401/403 itself
            return None
        if user_auth is not None:
            return user_auth[0]
    return None


class IdempotencyMiddleware:
    """Applies `Idempotency-Key` to authenticated POSTs under /api/ (see the module docstring).

    Anonymous POSTs (register, token) ignore the header: a key alone would let one client replay, and so
    read, another client's response.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or "HTTP_IDEMPOTENCY_KEY" not in request.META:
            return self.get_response(request)
        response = self.get_response(request)
        record = getattr(request, "_idempotency_record", None)
        if record is not None:
            idempotency_record_finish(
                record=record, response=None if getattr(request, "_idempotency_raised", False) else response
            )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method != "POST"
            or "HTTP_IDEMPOTENCY_KEY" not in request.META
            or not request.path_info.startswith(API_PREFIX)
            # File uploads (imports) are not buffered to fingerprint them: a 100 MB body would be read into
            # memory past the upload limit's own streaming check. Re-uploading is harmless: rows apply once.
            or request.content_type.startswith("multipart/")
        ):
            return None
        # Read the body before authenticating: the session's CSRF check may parse the form from it.
        body = request.body
        user = _authenticated_user(request, view_func)
        if user is None:
            return None
        key = request.META["HTTP_IDEMPOTENCY_KEY"]
        if not idempotency_key_is_valid(key):
            return _json_response(error_body(code="invalid", detail=KEY_INVALID, attr=HEADER, status=400), status=400)
        path = request.get_full_path()
        fingerprint = request_fingerprint(method=request.method, path=path, body=body)
        record, claimed = idempotency_record_claim(
            user=user, key=key, method=request.method, path=path, fingerprint=fingerprint
        )
        if claimed:
            request._idempotency_record = record
            return None
        if record is not None and record.request_fingerprint != fingerprint:
            return _json_response(error_body(code="idempotency_key_reused", detail=KEY_REUSED, status=422), status=422)
        if record is None or record.response_status is None:
            body = error_body(code="idempotency_key_in_progress", detail=KEY_IN_PROGRESS, status=409)
            return _json_response(body, status=409, **{"Retry-After": "1"})
        return replay_response(record)

    def process_exception(self, request, exception):
        request._idempotency_raised = True


def postprocess_schema_idempotency_key(result, generator, request, public):
    """drf-spectacular hook: document the header, its 409/422 and `Idempotent-Replayed` on every
    authenticated POST (the hook in core/schema.py adds the error component these refer to)."""
    parameter = {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH},
        "description": (
            "Makes a retried POST safe: the first response for this key (and user) is replayed for 24 hours "
            f"with `{REPLAYED_HEADER}: true`, without repeating the action. See docs/api.md."
        ),
    }
    replayed = {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Present on a stored response replayed for a repeated `Idempotency-Key`.",
    }
    retry_after = {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}
    error = {"$ref": "#/components/schemas/ClientErrorResponse"}
    for path, operations in result.get("paths", {}).items():
        operation = operations.get("post")
        if not path.startswith(API_PREFIX) or operation is None:
            continue
        if not any(requirement for requirement in operation.get("security", [])):
            continue  # anonymous endpoints ignore the header
        media_types = operation.get("requestBody", {}).get("content", {})
        if media_types and all(media_type.startswith("multipart/") for media_type in media_types):
            continue  # uploads ignore it too
        operation.setdefault("parameters", []).append(parameter)
        responses = operation.setdefault("responses", {})
        for status, description in (("409", KEY_IN_PROGRESS), ("422", KEY_REUSED)):
            response = responses.setdefault(status, {"description": description, "content": {}})
            media = response.setdefault("content", {}).setdefault("application/json", {})
            if "schema" in media and media["schema"] != error:  # the view's own 409 (a cancelled import)
                media["schema"] = {"oneOf": [media["schema"], error]}
            else:
                media["schema"] = error
        responses["409"].setdefault("headers", {})["Retry-After"] = retry_after
        for status, response in responses.items():
            if int(status) < 500 and int(status) not in UNSTORED_STATUSES:
                response.setdefault("headers", {})[REPLAYED_HEADER] = replayed
    return result

"""The one shape every API error has: drf-standardized-errors' format (docs/api.md, "Errors"), produced
by its exception handler and documented on every operation by its drf-spectacular AutoSchema:

    {"type": "validation_error", "errors": [{"code": "required", "detail": "...", "attr": "email"}]}
    {"type": "client_error", "errors": [{"code": "not_found", "detail": "Not found.", "attr": null}]}

The few errors answered outside a DRF view (Django's 404/500/CSRF views under /api/, the idempotency
middleware) build the same body with `error_body`."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_standardized_errors.handler import ExceptionHandler as StandardExceptionHandler
from rest_framework import exceptions, serializers

VALIDATION_ERROR = "validation_error"
CLIENT_ERROR = "client_error"
SERVER_ERROR = "server_error"
SERVER_ERROR_DETAIL = "A server error occurred."


def error_body(*, code: str, detail: str, attr: str | None = None, status: int) -> dict:
    """The API's error body for one error, for answers built outside DRF's exception handler."""
    kind = VALIDATION_ERROR if attr is not None else SERVER_ERROR if status >= 500 else CLIENT_ERROR
    return {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}


class Conflict(exceptions.APIException):
    """409: the request is valid but the object's state does not allow it (e.g. a disabled endpoint)."""

    status_code = 409
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"


class Gone(exceptions.APIException):
    """410: the object existed and was withdrawn (a revoked certificate's PDF)."""

    status_code = 410
    default_detail = "This is no longer available."
    default_code = "gone"


class ExceptionHandler(StandardExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        # Services raise Django's ValidationError; the API answers it as a 400 with the same field messages
        # and the codes the service gave them.
        if isinstance(exc, DjangoValidationError):
            if hasattr(exc, "error_dict"):
                detail = {field: _error_details(errors) for field, errors in exc.error_dict.items()}
            else:
                detail = {"non_field_errors": _error_details(exc.error_list)}
            return exceptions.ValidationError(detail=detail)
        if isinstance(exc, exceptions.ValidationError):
            # A message raised without a code (a form's add_error, django-filter) still gets one: the schema
            # promises every error a string `code`.
            exc.detail = _with_codes(exc.detail)
        return super().convert_known_exceptions(exc)

    def convert_unhandled_exceptions(self, exc: Exception) -> exceptions.APIException:
        # The same words as the 500 answered outside DRF (core.views.server_error).
        if not isinstance(exc, exceptions.APIException):
            return exceptions.APIException(detail=SERVER_ERROR_DETAIL)
        return exc


def _with_codes(detail):
    if isinstance(detail, dict):
        return {key: _with_codes(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_with_codes(value) for value in detail]
    if isinstance(detail, exceptions.ErrorDetail) and detail.code is None:
        return exceptions.ErrorDetail(str(detail), code="invalid")
    return detail


def _error_details(errors: list[DjangoValidationError]) -> list[exceptions.ErrorDetail]:
    return [
        exceptions.ErrorDetail(message, code=error.code or "invalid") for error in errors for message in error.messages
    ]


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable and machine-readable, e.g. `required`, `not_found`.")
    detail = serializers.CharField(help_text="A message for people.")
    attr = serializers.CharField(
        allow_null=True, help_text="The field at fault (dotted for nested fields); null when none is."
    )


class ErrorResponse400Serializer(serializers.Serializer):
    """A 400: invalid fields (`validation_error`), or a body that cannot be parsed (`client_error`)."""

    type = serializers.ChoiceField(choices=[VALIDATION_ERROR, CLIENT_ERROR])
    errors = ErrorSerializer(many=True)

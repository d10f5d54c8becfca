"""drf-spectacular hooks for what the views cannot declare themselves: headers sent on every response of a
kind, and the error component answered outside DRF views (the idempotency middleware's 409/422)."""

RETRY_AFTER = {
    "schema": {"type": "integer", "minimum": 0},
    "description": "Seconds to wait before trying again.",
}


WRITES = ("post", "put", "patch", "delete")


def postprocess_schema_errors(result, generator, request, public):
    """Give every error that a view described only in words the one error shape; add `Retry-After` to every
    429, the 403 of a session's failed CSRF check to every write a session may send, and the
    `ClientErrorResponse` component (any other 4xx error)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ClientErrorResponse"] = {
        "type": "object",
        "description": "A 4xx error: one error with its stable `code` and a `detail` for people.",
        "properties": {
            "type": {"$ref": "#/components/schemas/ClientErrorEnum"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}},
        },
        "required": ["type", "errors"],
    }
    forbidden = {
        "description": "Not allowed, or the session's CSRF check failed.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse403"}}},
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            _errors_in_the_one_shape(responses, schemas)
            if "429" in responses:
                responses["429"].setdefault("headers", {})["Retry-After"] = RETRY_AFTER
            sessions = any("cookieAuth" in requirement for requirement in operation.get("security", []))
            if method in WRITES and sessions:
                responses.setdefault("403", forbidden)
    return result


def _errors_in_the_one_shape(responses: dict, schemas: dict) -> None:
    """A view may document an error by its description alone (`OpenApiResponse(description=...)`); its body
    is still the one error shape: the status's own component where there is one, else any 4xx error."""
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400 and "content" not in response:
            name = f"ErrorResponse{status}" if f"ErrorResponse{status}" in schemas else "ClientErrorResponse"
            response["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}

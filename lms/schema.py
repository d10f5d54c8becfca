"""drf-spectacular hooks for what the views cannot declare themselves: headers sent on every response of a
kind, and the error component answered outside DRF views (the idempotency middleware's 409/422)."""

RETRY_AFTER = {
    "schema": {"type": "integer", "minimum": 0},
    "description": "Seconds to wait before trying again.",
}


def postprocess_schema_errors(result, generator, request, public):
    """Add `Retry-After` to every 429 and the `ClientErrorResponse` component (any other 4xx error)."""
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
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            throttled = operation.get("responses", {}).get("429")
            if throttled is not None:
                throttled.setdefault("headers", {})["Retry-After"] = RETRY_AFTER
    return result

"""Helpers shared by tests: waiting on the real worker without fixed sleeps."""

import time


def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.05, message: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail the test with `message` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")
        time.sleep(interval)


def field_errors(response) -> dict:
    """A 400's field messages, {field: [message, ...]}, from the API's error shape (docs/api.md, "Errors")."""
    body = response.json()
    assert body["type"] == "validation_error", body
    messages = {}
    for error in body["errors"]:
        messages.setdefault(error["attr"], []).append(error["detail"])
    return messages


def error_detail(response) -> str:
    """The one error's `detail` of a non-field error (401, 403, 404, 409, 422, 429, a parse error)."""
    body = response.json()
    assert body["type"] in ("client_error", "server_error") and len(body["errors"]) == 1, body
    return body["errors"][0]["detail"]

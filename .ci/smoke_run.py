"""Smoke test of a running `make run` (called by .ci/smoke-run): stdlib only, speaks HTTP like a client.

Environment: PORT, FLOWER_PORT, FLOWER_BASIC_AUTH ("user:pass"), SMOKE_LOG (the run's output, where
seed_demo printed the demo logins).
"""
# A CI script reports by printing, and its URLs are built from fixed http://127.0.0.1 prefixes.
# ruff: noqa: T201, S310

import base64
import http.cookiejar
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

WEB = f"http://127.0.0.1:{os.environ['PORT']}"
FLOWER = f"http://127.0.0.1:{os.environ['FLOWER_PORT']}"
FLOWER_AUTH = os.environ["FLOWER_BASIC_AUTH"]
TASK_NAME = "enrollments.sync_progress"


class SmokeFailure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def request(url: str, *, method: str = "GET", data: dict | None = None, headers: dict | None = None, opener=None):
    """Return (status, body text); HTTP errors are answers too, not exceptions."""
    body = None
    headers = dict(headers or {})
    if data is not None and headers.get("Content-Type") == "application/json":
        body = json.dumps(data).encode()
    elif data is not None:
        body = urllib.parse.urlencode(data).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=15) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def api(path: str, *, method: str = "GET", data: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    status, text = request(f"{WEB}{path}", method=method, data=data, headers=headers)
    try:
        return status, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, text


def demo_logins() -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """The staff and learner logins seed_demo printed into the run's log."""
    with open(os.environ["SMOKE_LOG"], encoding="utf-8", errors="replace") as handle:
        log = handle.read()
    staff = re.search(r"staff \(admin\): (\S+) / (\S+)", log)
    learners = re.findall(r"learner:\s+(\S+@\S+) / (\S+)", log)
    check(staff is not None and len(learners) >= 2, "seed_demo's logins were not printed in the log")
    return (staff.group(1), staff.group(2)), learners


def step_pages() -> None:
    for path in ("/", "/admin/login/"):
        status, _ = request(f"{WEB}{path}")
        check(status == 200, f"GET {path} answered {status}, expected 200")
    print("ok: / and /admin/login/ answer 200")


def step_flower() -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _ = request(f"{FLOWER}/")
            break
        except OSError:  # not listening yet
            check(time.monotonic() < deadline, "Flower did not start listening within 60s")
            time.sleep(1)
    check(status == 401, f"Flower without credentials answered {status}, expected 401")
    auth = base64.b64encode(FLOWER_AUTH.encode()).decode()
    status, _ = request(f"{FLOWER}/", headers={"Authorization": f"Basic {auth}"})
    check(status == 200, f"Flower with credentials answered {status}, expected 200")
    print("ok: Flower answers 401 without credentials and 200 with them")


def step_task_round_trip(email: str, password: str) -> tuple[str, list[int]]:
    status, body = api("/api/auth/token/", method="POST", data={"email": email, "password": password})
    check(status == 200, f"token for {email}: {status} {body}")
    token = body["token"]
    status, body = api("/api/courses/")
    check(status == 200 and body["results"], f"course list: {status} {body}")
    slug = body["results"][0]["slug"]
    status, body = api(f"/api/courses/{slug}/")
    check(status == 200 and body["lessons"], f"course {slug}: {status} {body}")
    lesson_ids = [lesson["id"] for lesson in body["lessons"]]
    lesson_id = lesson_ids[0]
    status, body = api(f"/api/courses/{slug}/enroll/", method="POST", token=token)
    check(status in (200, 201), f"enroll in {slug}: {status} {body}")
    enrollment_id = body["id"]
    status, body = api(f"/api/lessons/{lesson_id}/complete/", method="POST", token=token)
    check(status == 202, f"complete lesson {lesson_id}: {status} {body} (expected 202)")
    deadline = time.monotonic() + 60
    while True:
        status, body = api(f"/api/enrollments/{enrollment_id}/", token=token)
        check(status == 200, f"enrollment {enrollment_id}: {status} {body}")
        if body["last_synced_at"] and body["progress_percent"] > 0:
            break
        check(time.monotonic() < deadline, f"progress never synced by the worker within 60s: {body}")
        time.sleep(0.5)
    print(f"ok: lesson completed through the API; the worker synced progress to {body['progress_percent']}%")
    return token, lesson_ids[1:]


def step_flower_sees_tasks(token: str, lesson_ids: list[int]) -> None:
    """Workers send task events only once Flower has switched them on (every few seconds): complete further
    lessons until Flower's task list shows a sync."""
    auth = base64.b64encode(FLOWER_AUTH.encode()).decode()
    deadline = time.monotonic() + 60
    for lesson_id in lesson_ids:
        status, body = api(f"/api/lessons/{lesson_id}/complete/", method="POST", token=token)
        check(status == 202, f"complete lesson {lesson_id}: {status} {body} (expected 202)")
        for _ in range(10):
            status, text = request(f"{FLOWER}/api/tasks?limit=50", headers={"Authorization": f"Basic {auth}"})
            check(status == 200, f"Flower /api/tasks answered {status}")
            if any(task.get("name") == TASK_NAME for task in json.loads(text).values()):
                print(f"ok: Flower switched task events on and lists {TASK_NAME}")
                return
            time.sleep(1)
        check(time.monotonic() < deadline, f"Flower listed no {TASK_NAME} within 60s")
    check(False, f"Flower listed no {TASK_NAME} after {len(lesson_ids)} more completions")


def step_admin_task_results(email: str, password: str) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, page = request(f"{WEB}/admin/login/", opener=opener)
    check(status == 200, f"admin login page: {status}")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    check(match is not None, "no CSRF token on the admin login page")
    form = {"csrfmiddlewaretoken": match.group(1), "username": email, "password": password, "next": "/admin/"}
    status, page = request(f"{WEB}/admin/login/?next=/admin/", method="POST", data=form, opener=opener)
    check(status == 200 and "Log out" in page, f"admin login as {email} failed ({status})")
    url = f"{WEB}/admin/django_celery_results/taskresult/"
    deadline = time.monotonic() + 30
    while True:
        status, page = request(url, opener=opener)
        check(status == 200, f"task result changelist: {status}")
        if TASK_NAME in page:
            break
        check(time.monotonic() < deadline, f"{TASK_NAME} not in the admin's task results within 30s")
        time.sleep(1)
    print(f"ok: the admin's task results list {TASK_NAME}")


def main() -> int:
    try:
        (staff_email, staff_password), learners = demo_logins()
        # The second learner has no seeded enrollment, so completing a lesson is new work (202).
        learner_email, learner_password = learners[1]
        step_pages()
        step_flower()
        token, more_lessons = step_task_round_trip(learner_email, learner_password)
        step_flower_sees_tasks(token, more_lessons)
        step_admin_task_results(staff_email, staff_password)
    except (SmokeFailure, OSError, KeyError, ValueError) as exc:
        print(f"SMOKE FAILED: {exc}", file=sys.stderr)
        return 1
    print("smoke: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

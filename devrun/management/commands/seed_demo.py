"""Demo data for local development: a staff user, three learners, three published courses.

Idempotent: rows are found by email or slug, so a second run creates nothing. Enrollment and lesson
completion go through the enrollments services, so the demo data is exactly what the app itself makes.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from courses.models import Course, Lesson
from enrollments.services import enrollment_create, lesson_complete

# Fixed on purpose: `make run` prints them. The command refuses to run outside DEBUG without --force.
STAFF = {"email": "staff@example.com", "full_name": "Sam Staff", "password": "demo-staff-pass-2024"}
LEARNERS = [
    {"email": "ada@example.com", "full_name": "Ada Lovelace", "password": "demo-learner-pass-2024"},
    {"email": "grace@example.com", "full_name": "Grace Hopper", "password": "demo-learner-pass-2024"},
    {"email": "alan@example.com", "full_name": "Alan Turing", "password": "demo-learner-pass-2024"},
]

COURSES = [
    {
        "slug": "python-foundations",
        "title": "Python Foundations",
        "summary": "Values, functions and collections: the Python you use every day.",
        "description": "A short, practical tour of the language for people who have programmed before.",
        "lessons": [
            (
                "Values and names",
                "In Python a **name** refers to a value; assignment binds, it never copies.\n\n"
                "```python\nscores = [90, 72]\nalias = scores\nalias.append(65)\n```\n\n"
                "After this, `scores` holds three items: both names point at one list.",
            ),
            (
                "Functions",
                "Define a function with `def`. Prefer keyword-only arguments for anything that is not obvious:\n\n"
                "```python\ndef enroll(*, learner, course):\n    ...\n```\n\n"
                "Callers must then say `enroll(learner=ada, course=python)`, which reads well years later.",
            ),
            (
                "Lists, dicts and sets",
                "- A **list** keeps order and allows duplicates.\n"
                "- A **dict** maps keys to values and keeps insertion order.\n"
                "- A **set** answers *is it in there?* in constant time.\n\n"
                "Pick the structure by the question you will ask of it most often.",
            ),
            (
                "Errors and exceptions",
                "Raise an exception when a function cannot do what its name promises. Catch only what you can "
                "handle, as close to the cause as you can:\n\n"
                "```python\ntry:\n    course = Course.objects.get(slug=slug)\nexcept Course.DoesNotExist:\n"
                "    raise Http404\n```",
            ),
        ],
    },
    {
        "slug": "web-apps-with-django",
        "title": "Web Apps with Django",
        "summary": "Models, views and templates, and where your business rules belong.",
        "description": "Build a small but real Django application, one concept per lesson.",
        "lessons": [
            (
                "Projects and apps",
                "A Django **project** is configuration; an **app** is a unit of behaviour with its own models, "
                "views and templates. Keep apps small and give each one job.",
            ),
            (
                "Models and migrations",
                "Models describe tables. After changing one, run:\n\n"
                "```shell\npython manage.py makemigrations\npython manage.py migrate\n```\n\n"
                "Put invariants in the database with `UniqueConstraint` and `CheckConstraint`.",
            ),
            (
                "Views and URLs",
                "A view takes a request and returns a response. Keep it thin: validate input, call one "
                "service, render the result.",
            ),
            (
                "Templates",
                "Templates render data; they do not fetch it. Use `{% url %}` instead of hard-coded paths and "
                "let auto-escaping protect you from injected HTML.",
            ),
            (
                "Services",
                "Writes with side effects live in **services**: plain functions such as "
                "`enrollment_create(*, learner, course)`. Views, the API and tasks all call the same one.",
            ),
        ],
    },
    {
        "slug": "background-jobs-with-celery",
        "title": "Background Jobs with Celery",
        "summary": "Queues, workers and retries: moving slow work out of the request.",
        "description": "Why and how to hand work to Celery without losing it or doing it twice.",
        "lessons": [
            (
                "Why a queue",
                "A request should answer in milliseconds. Sending mail, rendering PDFs or calling webhooks "
                "can take seconds, so the request **enqueues** the work and a worker does it.",
            ),
            (
                "Tasks take ids",
                "Pass ids, not objects: by the time a worker runs, the object may have changed.\n\n"
                "```python\n@shared_task\ndef progress_sync_task(enrollment_id: int):\n    ...\n```",
            ),
            (
                "Enqueue after commit",
                "Queue a task only once the transaction commits, with `transaction.on_commit`. Otherwise a "
                "fast worker may look for a row that does not exist yet, or act on a change that rolled back.",
            ),
            (
                "Retries and idempotency",
                "Networks fail, so tasks retry. A task that may run twice must be **idempotent**: the second "
                "run finds the work already done and changes nothing.",
            ),
            (
                "Watching the workers",
                "Flower shows workers, queues and task history. Results are also stored in the database and "
                "visible in the admin.",
            ),
            (
                "Scaling out",
                "Add workers for throughput, or give a slow queue its own workers:\n\n"
                "```shell\ncelery -A lms worker -Q pdf\n```\n\n"
                "Run exactly **one** beat scheduler, or periodic tasks run twice.",
            ),
        ],
    },
]


class Command(BaseCommand):
    help = (
        "Create idempotent demo data: a staff superuser, three learners, three published courses with "
        "lessons, and one enrollment with a completed lesson. Refuses to run unless DEBUG is on or --force "
        "is given, because the demo accounts have well-known passwords."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though DEBUG is off. Never use on a real deployment: the passwords are public.",
        )

    def handle(self, *args, force: bool = False, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with well-known passwords, so it runs only with DEBUG=true "
                "(or --force, never in production)."
            )
        notes: list[tuple[str, bool]] = []  # (what, created)
        with transaction.atomic():
            staff, was_created = self._user(STAFF, superuser=True)
            notes.append((f"staff user {staff.email}", was_created))
            learners = []
            for spec in LEARNERS:
                learner, was_created = self._user(spec, superuser=False)
                learners.append(learner)
                notes.append((f"learner {learner.email}", was_created))
            courses = [_course(spec, notes) for spec in COURSES]
            _enroll_and_complete(learners[0], courses[0], notes)
        self._report(notes)

    def _report(self, notes: list[tuple[str, bool]]) -> None:
        created = [label for label, was_created in notes if was_created]
        self.stdout.write(f"Created {len(created)}, found {len(notes) - len(created)} existing.")
        for label in created:
            self.stdout.write(self.style.SUCCESS(f"  created {label}"))
        if notes and not created:
            self.stdout.write("  (everything already existed)")
        self.stdout.write("Demo logins (development only):")
        self.stdout.write(f"  staff (admin): {STAFF['email']} / {STAFF['password']}")
        for spec in LEARNERS:
            self.stdout.write(f"  learner:       {spec['email']} / {spec['password']}")

    def _user(self, spec: dict, *, superuser: bool):
        User = get_user_model()
        user = User.objects.filter(email__iexact=spec["email"]).first()
        if user is not None:
            return user, False
        create = User.objects.create_superuser if superuser else User.objects.create_user
        return create(email=spec["email"], password=spec["password"], full_name=spec["full_name"]), True


def _course(spec: dict, notes: list) -> Course:
    defaults = {key: spec[key] for key in ("title", "summary", "description")}
    course, was_created = Course.objects.get_or_create(slug=spec["slug"], defaults={**defaults, "is_published": True})
    notes.append((f"course {course.slug}", was_created))
    for position, (title, body) in enumerate(spec["lessons"], start=1):
        lesson_slug = slugify(title)
        _, was_created = Lesson.objects.get_or_create(
            course=course,
            slug=lesson_slug,
            defaults={"title": title, "body": body, "position": position, "estimated_minutes": 5},
        )
        notes.append((f"lesson {course.slug}/{lesson_slug}", was_created))
    return course


def _enroll_and_complete(learner, course: Course, notes: list) -> None:
    # Through the services, so signals fire and the progress sync is queued (after commit).
    _enrollment, was_created = enrollment_create(learner=learner, course=course)
    notes.append((f"enrollment of {learner.email} in {course.slug}", was_created))
    first_lesson = course.lessons.order_by("position", "id").first()
    _, was_created = lesson_complete(learner=learner, lesson_id=first_lesson.pk)
    notes.append((f"completion of {course.slug}/{first_lesson.slug} by {learner.email}", was_created))

"""Benchmark data, generated here (nothing committed): bulk ORM inserts for small sets, server-side SQL
(INSERT ... SELECT generate_series) for the large ones."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from courses.models import Course, Lesson
from enrollments.models import Enrollment, LessonCompletion

User = get_user_model()


def course(slug: str, *, lessons: int) -> Course:
    """A published course with `lessons` published lessons at positions 1..lessons."""
    created = Course.objects.create(title=f"Bench {slug}", slug=slug, is_published=True)
    Lesson.objects.bulk_create(
        [Lesson(course=created, title=f"Lesson {i}", slug=f"l{i}", position=i) for i in range(1, lessons + 1)],
        batch_size=2000,
    )
    return created


def lesson_ids(course_id: int) -> list[int]:
    return list(Lesson.objects.filter(course_id=course_id).order_by("position", "id").values_list("pk", flat=True))


def learners(prefix: str, n: int, *, tokens: bool = False) -> list:
    users = User.objects.bulk_create(
        [
            User(email=f"{prefix}-{i}@bench.example", full_name=f"{prefix} {i}", password=UNUSABLE_PASSWORD_PREFIX)
            for i in range(n)
        ],
        batch_size=2000,
    )
    if tokens:
        Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users])
    return users


def token_of(user) -> str:
    return Token.objects.get(user=user).key


def enroll(users, course_: Course, **fields) -> list[Enrollment]:
    return Enrollment.objects.bulk_create(
        [Enrollment(learner=u, course=course_, **fields) for u in users], batch_size=2000
    )


def completed_enrollments(prefix: str, n: int, course_: Course) -> list[int]:
    """`n` enrollments already completed (eligible for a certificate), each of its own learner."""
    users = learners(prefix, n)
    now = timezone.now()
    rows = enroll(users, course_, status=Enrollment.Status.COMPLETED, progress_percent=100, completed_at=now)
    return [e.pk for e in rows]


def partial_enrollments(prefix: str, n: int, course_: Course, *, done: int) -> list[int]:
    """`n` active enrollments with the first `done` lessons completed."""
    users = learners(prefix, n)
    rows = enroll(users, course_)
    first = lesson_ids(course_.pk)[:done]
    LessonCompletion.objects.bulk_create(
        [LessonCompletion(enrollment=e, lesson_id=lid) for e in rows for lid in first], batch_size=5000
    )
    return [e.pk for e in rows]


def large_course(slug: str, *, enrollments: int, lessons: int = 50) -> tuple[Course, int]:
    """A course with `enrollments` learners; enrollment k has lessons 1..(1 + k % (lessons - 1)) done, so
    every enrollment has completions, none is complete, and there are ~enrollments * lessons / 2 rows.
    Returns the course and the number of completion rows."""
    created = course(slug, lessons=lessons)
    user_t, enr_t, comp_t = User._meta.db_table, Enrollment._meta.db_table, LessonCompletion._meta.db_table
    lesson_t = Lesson._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")  # bulk load only; reset below
        cursor.execute(
            f"""INSERT INTO {user_t} (password, is_superuser, email, full_name, is_staff, is_active, date_joined)
                SELECT %s, false, %s || g || '@bench.example', 'Learner ' || g, false, true, now()
                FROM generate_series(1, %s) AS g""",
            [UNUSABLE_PASSWORD_PREFIX, f"{slug}-", enrollments],
        )
        cursor.execute(
            f"""INSERT INTO {enr_t} (learner_id, course_id, status, progress_percent, enrolled_at, updated_at)
                SELECT u.id, %s, 'active', 0, now(), now() FROM {user_t} u WHERE u.email LIKE %s ORDER BY u.id""",
            [created.pk, f"{slug}-%"],
        )
        cursor.execute(
            f"""INSERT INTO {comp_t} (enrollment_id, lesson_id, completed_at)
                SELECT e.id, l.id, now() FROM {enr_t} e
                JOIN {lesson_t} l ON l.course_id = e.course_id AND l.position <= 1 + e.id %% %s
                WHERE e.course_id = %s""",
            [lessons - 1, created.pk],
        )
        rows = cursor.rowcount
        cursor.execute("RESET synchronous_commit")
    with connection.cursor() as cursor:
        for table in (user_t, enr_t, comp_t, lesson_t):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return created, rows

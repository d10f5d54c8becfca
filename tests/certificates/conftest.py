import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory


def pdf_text(content: bytes) -> str:
    """The PDF's text as pdftotext sees it when poppler is installed, else as pypdf extracts it."""
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def stored_pdfs() -> list:
    folder = Path(settings.MEDIA_ROOT) / "certificates"
    return sorted(folder.glob("*.pdf")) if folder.exists() else []


@pytest.fixture(autouse=True)
def _clean_media():
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "certificates", ignore_errors=True)
    yield


@pytest.fixture
def completed_enrollment(db):
    """An enrollment completed through the progress service (so it is in the state a task sees)."""
    from enrollments import services

    course = CourseFactory(title="Python für Anfänger")
    lesson = LessonFactory(course=course)
    learner = UserFactory(full_name="Zoë Łukasiewicz-Ørsted")
    enrollment = EnrollmentFactory(course=course, learner=learner)
    services.lesson_complete(learner=learner, lesson_id=lesson.pk)
    services.enrollment_sync_progress(enrollment_id=enrollment.pk)
    enrollment.refresh_from_db()
    assert enrollment.status == "completed"
    return enrollment

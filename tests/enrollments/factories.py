"""factory_boy factories for enrollments."""

import factory

from enrollments.models import Enrollment, LessonCompletion
from tests.courses.factories import CourseFactory, LessonFactory
from tests.jobs.factories import UserFactory


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    learner = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)


class LessonCompletionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LessonCompletion

    enrollment = factory.SubFactory(EnrollmentFactory)
    lesson = factory.SubFactory(LessonFactory, course=factory.SelfAttribute("..enrollment.course"))


# What staff need to upload, follow and cancel bulk imports (docs/security.md, "Staff permissions").

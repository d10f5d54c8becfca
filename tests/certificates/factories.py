"""factory_boy factories for certificates."""

import factory

from certificates.models import Certificate
from tests.enrollments.factories import EnrollmentFactory


class CertificateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certificate

    enrollment = factory.SubFactory(
        EnrollmentFactory,
        status="completed",
        completed_at=factory.Faker("date_time", tzinfo=__import__("datetime").UTC),
    )
    learner_name = factory.LazyAttribute(lambda o: o.enrollment.learner.get_full_name())
    course_title = factory.LazyAttribute(lambda o: o.enrollment.course.title)

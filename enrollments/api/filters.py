"""Query parameters of `GET /api/enrollments/` (docs/api.md, "Integrations")."""

import django_filters

from core.filters import CourseFilter, LearnerFilter, SyncFilterSet
from enrollments.models import Enrollment


class EnrollmentFilter(SyncFilterSet):
    course = CourseFilter(field_name="course", help_text="The course's slug or id.")
    learner = LearnerFilter(field_name="learner", help_text="The learner's id or email address.")
    status = django_filters.ChoiceFilter(choices=Enrollment.Status.choices)

    class Meta(SyncFilterSet.Meta):
        model = Enrollment

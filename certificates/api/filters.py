"""Query parameters of `GET /api/certificates/` (docs/api.md, "Integrations")."""

import django_filters

from certificates.models import Certificate
from core.filters import CourseFilter, LearnerFilter, SyncFilterSet


class CertificateFilter(SyncFilterSet):
    course = CourseFilter(field_name="enrollment__course", help_text="The course's slug or id.")
    learner = LearnerFilter(field_name="enrollment__learner", help_text="The learner's id or email address.")
    status = django_filters.ChoiceFilter(choices=Certificate.Status.choices)

    class Meta(SyncFilterSet.Meta):
        model = Certificate

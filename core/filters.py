"""Query filters shared by the enrollment and certificate lists (django-filter), and the incremental sync.

Every value is checked by a form field before it reaches the database, so a bad date, id or status is a
400 with the parameter's name and message (DjangoFilterBackend raises DRF's ValidationError), never a 500.
"""

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.db.models import Q, QuerySet
from django_filters.fields import IsoDateTimeField

# Ids are 64-bit in the database: a larger number would be a DataError (500) on PostgreSQL.
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class SinceField(IsoDateTimeField):
    """An ISO 8601 instant, in UTC: one in year 1 with a positive offset has no UTC time (a 400, not a 500)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Enter a date/time between the years 1 and 9999.", code="invalid") from None


class _IdOrField(forms.CharField):
    """An id (digits) or some other kind of key, told apart by shape; cleans to ("id", int) or (kind, str)."""

    kind = ""
    message = ""

    def check_key(self, value: str) -> None:
        raise NotImplementedError

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        if value.isascii() and value.isdigit():  # str.isdigit() alone also takes '²' and '٣'
            number = int(value)
            if not 1 <= number <= MAX_ID:
                raise ValidationError(self.message, code="invalid")
            return ("id", number)
        try:
            self.check_key(value)
        except ValidationError:
            raise ValidationError(self.message, code="invalid") from None
        return (self.kind, value)


class CourseKeyField(_IdOrField):
    kind = "slug"
    message = "Enter a course slug or id."

    def check_key(self, value: str) -> None:
        validate_slug(value)


class LearnerKeyField(_IdOrField):
    kind = "email"
    message = "Enter a learner id or email address."

    def check_key(self, value: str) -> None:
        validate_email(value)


class CourseFilter(django_filters.CharFilter):
    """`?course=python-basics` or `?course=12`: the course by slug or id (`field_name` leads to the course)."""

    field_class = CourseKeyField

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if not value:
            return qs
        kind, key = value
        if kind == "id":
            # A slug may be all digits too: match either.
            return qs.filter(Q(**{f"{self.field_name}_id": key}) | Q(**{f"{self.field_name}__slug": str(key)}))
        return qs.filter(**{f"{self.field_name}__slug": key})


class LearnerFilter(django_filters.CharFilter):
    """`?learner=7` or `?learner=ada@example.com` (case-insensitive): the learner by id or email."""

    field_class = LearnerKeyField

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if not value:
            return qs
        kind, key = value
        if kind == "id":
            return qs.filter(**{f"{self.field_name}_id": key})
        return qs.filter(**{f"{self.field_name}__email__iexact": key})


class IdFilter(django_filters.NumberFilter):
    field_class = IdField


class SinceFilter(django_filters.IsoDateTimeFilter):
    field_class = SinceField


class SyncForm(forms.Form):
    def clean(self):
        data = super().clean()
        if (
            data.get("after_id") is not None
            and data.get("updated_since") is None
            and "updated_since" not in self.errors
        ):
            self.add_error("after_id", "Pass after_id together with updated_since.")
        return data


class SyncFilterSet(django_filters.FilterSet):
    """`updated_since` and `after_id`: the incremental sync, ordered by (updated_at, id) (docs/api.md).

    `updated_since` alone is inclusive (rows written at that instant come again: upsert by id); with
    `after_id` it resumes strictly after the row (updated_since, after_id), which is how `next` pages
    through a sync, even through many rows written in the same instant. Subclasses' Meta inherit this one.
    """

    updated_since = SinceFilter(
        method="filter_updated_since",
        help_text="Rows written at or after this instant (ISO 8601, URL-encoded), oldest first by "
        "(updated_at, id). Pass the updated_at of the last row you stored.",
    )
    after_id = IdFilter(
        method="filter_noop",
        help_text="With updated_since: resume after the row with this id (the `next` link sets it).",
    )

    class Meta:
        form = SyncForm
        fields: list[str] = []

    def filter_noop(self, qs: QuerySet, name: str, value: int) -> QuerySet:  # the hint types the schema
        return qs  # read by filter_updated_since

    def filter_updated_since(self, qs: QuerySet, name: str, value) -> QuerySet:
        after_id = self.form.cleaned_data.get("after_id")
        if after_id is None:
            rows = qs.filter(updated_at__gte=value)
        else:
            rows = qs.filter(Q(updated_at__gt=value) | Q(updated_at=value, id__gt=after_id))
        return rows.order_by("updated_at", "id")

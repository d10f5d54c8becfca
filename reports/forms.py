"""The staff form that launches a report (the admin's add page)."""

from django import forms

from courses.models import Course
from reports.models import Report


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=Report.Kind.choices, label="Report")
    course = forms.ModelChoiceField(
        queryset=Course.objects.order_by("title"), required=False, help_text="Optional for certificates issued."
    )
    format = forms.ChoiceField(choices=Report.Format.choices, initial=Report.Format.CSV)
    period_start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

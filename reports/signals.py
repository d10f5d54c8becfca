"""Domain signals of the reports app."""

from django.dispatch import Signal

# A report's file is stored and can be downloaded. kwargs: report_id. Sent inside the finishing transaction.
report_ready = Signal()

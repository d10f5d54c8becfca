"""Domain signals of the accounts app. Receivers (notifications) only enqueue work."""

from django.dispatch import Signal

# Sent after commit-safe registration: kwargs user_id.
user_registered = Signal()

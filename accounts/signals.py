"""Domain signals of the accounts app. Receivers (notifications) only enqueue work."""

from django.dispatch import Signal

# Sent after commit-safe registration: kwargs user_id.
user_registered = Signal()

# Someone asked for a password reset of an existing account: kwargs user_id, request_id (unique per
# request, the same for every delivery of it).
password_reset_requested = Signal()

# The account's full name was set or changed (profile page, dashboard): kwargs user_id.
user_name_changed = Signal()

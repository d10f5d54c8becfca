from notifications.admin import email, webhooks  # noqa: F401 - registers the ModelAdmins

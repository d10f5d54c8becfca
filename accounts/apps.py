from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out, user_login_failed

        from accounts import receivers
        from jobs.about import about_kwarg

        user_login_failed.connect(receivers.on_user_login_failed, dispatch_uid="accounts-login-failed-limit")
        user_logged_out.connect(receivers.on_user_logged_out, dispatch_uid="accounts-logout-revoke-tokens")
        about_kwarg("user_id", "accounts.User")

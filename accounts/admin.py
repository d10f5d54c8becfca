from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts.forms import LimitedAdminAuthenticationForm
from accounts.models import User
from jobs.admin import JobInline

# The admin's login says "locked out, try again in N minutes" during a login-limit lockout, like the site's.
admin.site.login_form = LimitedAdminAuthenticationForm


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    inlines = [JobInline]
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)

    def get_readonly_fields(self, request, obj=None):
        # Whoever may change users (support) must not grant rights, their own included: only superusers do.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly

    def has_change_permission(self, request, obj=None):
        # Nor may they take over another account that holds rights: changing another staff member's or a
        # superuser's email or password (the admin's password form asks this too) is for superusers.
        holds_rights = obj is not None and (obj.is_staff or obj.is_superuser)
        if holds_rights and obj.pk != request.user.pk and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

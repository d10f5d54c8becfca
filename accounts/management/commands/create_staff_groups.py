from django.core.management.base import BaseCommand, CommandError

from accounts.staff_groups import staff_groups_sync


class Command(BaseCommand):
    help = (
        "Create the recommended staff groups (Support, Course editor, Integrator, Operator) or reset them to "
        "their documented permissions (docs/security.md). Other groups are left alone."
    )

    def handle(self, *args, **options):
        try:
            groups = staff_groups_sync()
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        for group in groups:
            self.stdout.write(f"{group.name}: {group.permissions.count()} permission(s)")

from django.core.management.base import BaseCommand, CommandError

from courses.models import Course
from enrollments import services


class Command(BaseCommand):
    help = (
        "Recompute every enrollment's progress in a course (or all courses) from its completion rows, "
        "in set-based batches, now and in this process. Safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", metavar="SLUG", help="The course's slug; all courses when omitted.")
        parser.add_argument("--batch-size", type=int, default=services.RECOMPUTE_BATCH_SIZE)

    def handle(self, *args, course, batch_size, **options):
        courses = Course.objects.order_by("pk")
        if course:
            courses = courses.filter(slug=course)
            if not courses.exists():
                raise CommandError(f"No course with slug {course!r}.")
        total = courses.count()
        for number, item in enumerate(courses, start=1):
            updated = services.course_recompute_progress(course_id=item.pk, batch_size=batch_size)
            services.course_stats_recompute(course_id=item.pk)
            self.stdout.write(f"[{number}/{total}] {item.slug}: {updated} enrollment(s) recomputed")
        self.stdout.write(self.style.SUCCESS(f"done: {total} course(s)"))

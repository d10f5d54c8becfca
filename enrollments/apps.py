from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"

    def ready(self) -> None:
        from courses import viewers
        from enrollments import receivers
        from enrollments.course_viewer import EnrollmentCourseViewer
        from jobs.about import about_kwarg
        from jobs.operations import operation_kind

        receivers.connect()
        viewers.register(EnrollmentCourseViewer())
        about_kwarg("enrollment_id", "enrollments.Enrollment")
        operation_kind(
            "course.recompute", permission="enrollments.recompute_coursestats", label="Course progress recompute"
        )

from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"

    def ready(self) -> None:
        from courses import receivers
        from jobs.about import about_kwarg

        receivers.connect()
        about_kwarg("course_id", "courses.Course")

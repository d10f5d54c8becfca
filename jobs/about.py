"""What a job is about, for the admin's "jobs of this object": each app names the keyword argument that
carries the id of one of its objects (`about_kwarg("enrollment_id", "enrollments.Enrollment")` in its
AppConfig.ready), so the jobs app knows no app. A job whose keyword arguments name none of them, and that
is queued without `about=`, is about nothing in particular (the operations tasks).
"""

_ABOUT_KWARGS: dict[str, str] = {}


def about_kwarg(kwarg: str, model_label: str) -> None:
    """Jobs queued with `kwarg=<int>` are about `model_label`'s row with that primary key."""
    _ABOUT_KWARGS[kwarg] = model_label


def about_kwargs() -> dict[str, str]:
    return dict(_ABOUT_KWARGS)

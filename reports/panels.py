"""Sections other apps add to the staff page of one learner in a course (reports.views.learner_detail).

Apps above reports register a panel in their AppConfig.ready() (notifications adds the emails and webhook
deliveries about the learner), so this page shows them without importing those apps.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Panel:
    title: str
    template: str
    context: dict = field(default_factory=dict)


# Each takes (enrollment, certificate or None) and returns a Panel, or None to show nothing.
_PANELS: list[Callable] = []


def learner_panel(build: Callable) -> Callable:
    if build not in _PANELS:
        _PANELS.append(build)
    return build


def learner_panels(*, enrollment, certificate) -> list[Panel]:
    panels = (build(enrollment, certificate) for build in _PANELS)
    return [panel for panel in panels if panel is not None]

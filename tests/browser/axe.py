"""axe-core in the browser tests: every page a test visits is audited, and any violation fails the test.

axe-core comes from the npm registry, installed (pinned) by .ci/install-browser into var/browser; the tests
read it from there (or AXE_CORE_PATH) and download nothing while they run.
"""

import os
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

AXE_PATH = Path(os.environ.get("AXE_CORE_PATH", ROOT / "var" / "browser" / "node_modules" / "axe-core" / "axe.min.js"))


@cache
def axe_source() -> str:
    if not AXE_PATH.exists():
        pytest.skip(f"no axe-core at {AXE_PATH} (run .ci/install-browser to install it)")
    return AXE_PATH.read_text(encoding="utf-8")


def axe_violations(page) -> list[str]:
    """axe-core's violations on the page as it is now (all its default rules), one line per node."""
    # Evaluated through the DevTools protocol, so the site's Content-Security-Policy (no inline scripts)
    # does not apply to it and stays as strict as in production.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source() + "\n;0")
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {node['target']}"
        for violation in results["violations"]
        for node in violation["nodes"]
    ]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(violations)

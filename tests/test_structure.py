"""The structure checks CI runs: the module-size limit (our script) and the import contracts (import-linter)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / ".ci" / "check-module-size"


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_the_module_size_check_names_a_module_over_the_limit():
    result = _check("--max", "10", str(ROOT / "jobs" / "enqueue.py"))
    assert result.returncode == 1 and "jobs/enqueue.py" in result.stderr and "(max 10)" in result.stderr


def test_the_module_size_check_skips_migrations_and_tests():
    migration = next((ROOT / "jobs" / "migrations").glob("0001_*.py"))
    assert _check("--max", "10", str(migration), str(Path(__file__))).returncode == 0


def test_the_import_contracts_are_declared_for_every_app():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(config["root_packages"]), "a new app must join the import-linter contracts"
    assert {c["id"] for c in config["contracts"]} >= {
        "layers", "nothing-imports-notifications", "jobs-knows-no-app", "nobody-imports-lms"
    }  # fmt: skip

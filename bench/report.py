"""The results table: printed, and in full mode written into docs/performance.md between markers (the
hand-written analysis around them is kept)."""

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.environment import ROOT

DOC = ROOT / "docs" / "performance.md"
RAW = ROOT / "docs" / "performance.raw.json"  # git-ignored: every number of the last full run
BEGIN, END = "<!-- bench:begin (written by `make bench`; edit outside these markers) -->", "<!-- bench:end -->"


@dataclass
class Row:
    id: str
    what: str
    measured: str  # the ratio(s), as judged against the target
    target: str
    met: bool | None
    absolute: str  # medians / p95 / p99 of both sides, for reference
    raw: dict = field(default_factory=dict)


@dataclass
class Run:
    mode: str
    started: datetime
    machine: dict
    versions: dict
    revision: str
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _met(row: Row) -> str:
    return "—" if row.met is None else ("yes" if row.met else "**no**")


def markdown(run: Run) -> str:
    lines = [
        f"Run: {run.started:%Y-%m-%d %H:%M} UTC, mode `{run.mode}`, revision `{run.revision}`, "
        f"{run.seconds:.0f} s in all.",
        "",
        f"Machine: {run.machine['cpus']} CPUs ({run.machine['cpu_model']}), {run.machine['memory']} RAM, "
        f"{run.machine['os']}; load average before the run {run.machine['load']}.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in run.versions.items()) + ".",
        "",
        "| id | what | measured | target | met? | absolute figures |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in run.rows:
        cells = (row.id, row.what, row.measured, row.target, _met(row), row.absolute)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def plain(run: Run) -> str:
    out = [f"\n== bench ({run.mode}) {run.started:%Y-%m-%d %H:%M} UTC, {run.seconds:.0f} s"]
    for row in run.rows:
        flag = "  " if row.met is None else ("ok" if row.met else "XX")
        out.append(f"[{flag}] {row.id:<3} {row.measured}  (target {row.target})")
        out.append(f"          {row.absolute}")
    if run.mode == "quick":
        out.append("(quick mode: small sizes, figures are not judged)")
    return "\n".join(out)


def write_doc(run: Run) -> None:
    table = f"{BEGIN}\n{markdown(run)}{END}"
    if DOC.exists() and BEGIN in DOC.read_text():
        text = DOC.read_text()
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1] if END in rest else ""
        DOC.write_text(head + table + tail)
    else:
        DOC.write_text(f"# Performance\n\n{table}\n")


def write_raw(run: Run, path: Path = RAW) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = asdict(run)
    data["started"] = run.started.isoformat()
    path.write_text(json.dumps(data, indent=2, default=str))


def now() -> datetime:
    return datetime.now(UTC)

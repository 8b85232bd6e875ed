"""docs/reliability.md, written by the fault suite from what it measured."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
COLUMNS = {
    "fault": "fault",
    "expected behaviour": "behaviour",
    "measured": "measured",
    "expected": "expected",
    "stored": "stored",
    "spilled": "spilled",
    "lost": "lost",
}


def row(group: str, fault: str, behaviour: str, measured: str, expected: int, stored: int, spilled: int) -> dict:
    """One measured fault. lost: expected articles neither stored nor spilled."""
    return {
        "group": group,
        "fault": fault,
        "behaviour": behaviour,
        "measured": measured,
        "expected": expected,
        "stored": stored,
        "spilled": spilled,
        "lost": max(expected - stored - spilled, 0),
    }


def write_reliability_report(rows: list[dict]) -> None:
    ordered = sorted(rows, key=lambda r: (r["group"], r["fault"]))
    lines = [
        "# Reliability: the fault suite's measurements",
        "",
        "Written by `tests/test_faults.py` (and the storage, resume and retry tests) on every full run of the",
        "test suite; each row is one fault tried against the real crawl, the test mirror and the MongoDB",
        "stand-in. *expected*: articles that should end up archived; *stored*: found in the archive",
        "after the run (and after `replay` where the row says so); *spilled*: items written to the",
        "spill file; *lost*: expected articles neither stored nor spilled.",
        "",
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs.",
        "",
    ]
    group = None
    for row in ordered:
        if row["group"] != group:
            group = row["group"]
            lines += ["", f"## {group}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        cells = [str(row.get(key, "")).replace("|", "\\|") for key in COLUMNS.values()]
        lines.append("| " + " | ".join(cells) + " |")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines).replace("\n\n\n", "\n\n") + "\n", encoding="utf-8")

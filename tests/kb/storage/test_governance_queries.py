"""The governance SQL lives in kb/storage/governance_queries.py: no kb/governance module reaches a connection."""

from __future__ import annotations

import re
from pathlib import Path

from kb.storage.governance_queries import GOVERNANCE_SCHEMA
from kb.storage.sqlite import Store

GOVERNANCE = Path(__file__).resolve().parents[3] / "kb" / "governance"


def test_no_governance_module_runs_sql_or_touches_a_connection() -> None:
    pattern = re.compile(
        r"\.conn\b|\.execute\(|sqlite3\.connect|\bSELECT\b|\bINSERT\b|\bUPDATE\s+\w+\s+SET\b"
    )
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(GOVERNANCE.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_a_new_store_has_every_governance_table(tmp_path: Path) -> None:
    store = Store(tmp_path / "kb.db")  # the migration list creates them with the database
    names = re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", "\n".join(GOVERNANCE_SCHEMA))
    assert len(names) == len(GOVERNANCE_SCHEMA)
    assert all(store.table_exists(n) for n in names if not n.endswith("_target"))

"""The package boundaries: imports point one way, and only kb/storage/ speaks SQL.

cli/ and ui/ -> ingest/ -> kb/; inside kb/: analytics and governance -> knowledge_base -> retrieval ->
storage -> models. Imports made only for type checking (under `if TYPE_CHECKING:`) are not dependencies
at run time and are allowed in any direction.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("kb", "ingest", "cli", "ui")
# What each top-level package may import at run time (besides itself).
ALLOWED_PACKAGES = {
    "kb": {"kb"},
    "ingest": {"kb", "ingest"},
    "cli": {"kb", "ingest", "cli"},
    "ui": {"kb", "ingest", "ui"},
}
# Layers inside kb/: a module may import its own layer or a lower one (lower number).
KB_LAYERS = {
    "kb.models": 0,
    "kb.files": 0,
    "kb.drafts": 0,
    "kb.formatting": 0,
    "kb.storage": 1,
    "kb.retrieval": 2,
    "kb.knowledge_base": 3,
    "kb.analytics": 4,
    "kb.governance": 4,
}
# A string that starts like an SQL statement (adjacent literals are one string in the syntax tree, and an
# f-string's first part starts the statement). SQL here is written in capitals; prose is not SQL.
SQL_TEXT = re.compile(
    r"^\s*(SELECT\s|INSERT\s|REPLACE\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(TABLE|INDEX|UNIQUE|TRIGGER)\b"
    r"|DROP\s+(TABLE|INDEX|TRIGGER)\b|ALTER\s+TABLE\b|PRAGMA\s|WITH\s+\w+\s+AS\b|BEGIN\b|COMMIT\b|ROLLBACK\b)"
)
DATABASE_MODULES = ("sqlite3", "sqlite_utils", "psycopg", "psycopg_pool")


def modules(root: Path, package: str) -> list[tuple[str, Path]]:
    """Return (dotted name, path) of every module of a package under root."""
    out = []
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, path))
    return out


def runtime_imports(path: Path) -> list[tuple[int, str]]:
    """Return (line, imported module) of every import not guarded by `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text(), str(path))
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    found = []
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from kb import users` imports the module kb.users
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names if node.module in PACKAGES]
    return found


def kb_layer(module: str) -> int | None:
    """Return the layer of a kb module (None for kb/__init__, the package's public face)."""
    for prefix, layer in KB_LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def layer_violations(root: Path) -> list[str]:
    """Return every import that points the wrong way, as 'file:line imports module (why)'."""
    problems = []
    for package in PACKAGES:
        for name, path in modules(root, package):
            for line, imported in runtime_imports(path):
                top = imported.split(".")[0]
                where = f"{path.relative_to(root)}:{line} imports {imported}"
                if top in PACKAGES and top not in ALLOWED_PACKAGES[package]:
                    problems.append(f"{where} ({package}/ may not import {top}/)")
                elif package == "kb" and top == "kb" and name != "kb":
                    mine, theirs = kb_layer(name), kb_layer(imported)
                    if mine is not None and theirs is not None and theirs > mine:
                        problems.append(f"{where} (layer {mine} may not import layer {theirs})")
    return problems


def sql_outside_storage(root: Path) -> list[str]:
    """Return every SQL text, database import or connection reach-in outside kb/storage/."""
    problems = []
    for package in PACKAGES:
        for name, path in modules(root, package):
            if name.startswith("kb.storage"):
                continue
            tree = ast.parse(path.read_text(), str(path))
            rel = path.relative_to(root)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and SQL_TEXT.search(node.value)
                ):
                    problems.append(f"{rel}:{node.lineno} SQL text {node.value.strip()[:50]!r}")
                elif isinstance(node, ast.Attribute) and node.attr in (
                    "conn",
                    "db",
                    "execute",
                    "executemany",
                ):
                    problems.append(f"{rel}:{node.lineno} reaches into a database connection (.{node.attr})")
            for line, imported in runtime_imports(path):
                if imported.split(".")[0] in DATABASE_MODULES:
                    problems.append(f"{rel}:{line} imports {imported}")
    return problems


def test_imports_point_one_way():
    assert layer_violations(REPO) == []


def test_no_sql_outside_storage():
    assert sql_outside_storage(REPO) == []


def test_the_checks_find_what_they_look_for(tmp_path):
    (tmp_path / "kb" / "storage").mkdir(parents=True)
    (tmp_path / "kb" / "storage" / "sqlite.py").write_text("import sqlite3\nQ = 'SELECT x FROM entries'\n")
    (tmp_path / "kb" / "models.py").write_text("from kb.knowledge_base import KnowledgeBase\n")
    (tmp_path / "kb" / "knowledge_base.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from kb.governance.roles import Actor\n"
        "from ingest.importers import import_records\n"
    )
    (tmp_path / "kb" / "governance").mkdir()
    (tmp_path / "kb" / "governance" / "users.py").write_text(
        "def f(store):\n    return store.conn.execute('UPDATE users SET role = ?', ('admin',))\n"
    )
    for package in ("ingest", "cli", "ui"):
        (tmp_path / package).mkdir()
    layers = layer_violations(tmp_path)
    assert any(
        "kb/models.py:1 imports kb.knowledge_base (layer 0 may not import layer 3)" in p for p in layers
    )
    assert any("kb/knowledge_base.py:4 imports ingest.importers" in p for p in layers)
    assert not any("governance.roles" in p for p in layers), "type-checking imports are not dependencies"
    sql = sql_outside_storage(tmp_path)
    assert any("users.py:2 SQL text 'UPDATE users SET" in p for p in sql)
    assert any(".conn" in p for p in sql) and not any("storage" in p for p in sql)

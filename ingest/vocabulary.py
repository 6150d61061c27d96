"""The controlled vocabulary: processes and their steps, sites, term lists and the synonyms of the trade."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb.models import KBError

SHIPPED_VOCABULARY = Path(__file__).with_name("vocabulary.yaml")
SITE_ROLES: tuple[str, ...] = ("sending", "receiving", "both")
# Top-level keys with their own shape; every other top-level key is a term list.
SPECIAL_KEYS: tuple[str, ...] = ("processes", "steps", "synonyms", "case_sensitive_terms")


class VocabularyError(KBError):
    """A vocabulary file that cannot be used; the message names the file and the key."""


@dataclass
class Term:
    """One vocabulary term: a stable code, a human label and optional attributes (role, question...)."""

    code: str
    label: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Vocabulary:
    """The merged vocabulary: term lists, process steps and synonym groups."""

    processes: dict[str, Term] = field(default_factory=dict)
    steps: dict[str, dict[str, Term]] = field(default_factory=dict)  # process code -> step code -> Term
    lists: dict[str, dict[str, Term]] = field(default_factory=dict)
    synonym_groups: list[tuple[str, ...]] = field(default_factory=list)
    case_sensitive_terms: frozenset[str] = frozenset()
    sources: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        self.synonym_groups = _merge_groups(self.synonym_groups)
        self._group_of: dict[str, int] = {}
        self._term_res: dict[str, re.Pattern[str]] = {}
        # Longest first, so that at one position "host cell DNA" wins over a shorter term.
        terms = sorted(
            ((t, gi) for gi, group in enumerate(self.synonym_groups) for t in group),
            key=lambda tg: (-len(tg[0]), tg[0]),
        )
        self._names = [term for term, _ in terms]
        alternatives = []
        for n, (term, gi) in enumerate(terms):
            self._group_of[term] = gi
            self._term_res[term] = re.compile(rf"(?<!\w)(?:{self._term_body(term)})(?!\w)")
            alternatives.append(f"(?P<t{n}>{self._term_body(term)})")
        self._matcher = re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)") if alternatives else None

    def _term_body(self, term: str) -> str:
        body = r"[\s\-]+".join(re.escape(word) for word in term.split())
        return body if term in self.case_sensitive_terms else f"(?i:{body})"

    # --- term lists -------------------------------------------------------------------------------

    def list_names(self) -> list[str]:
        """Return the names of all term lists (including processes and the derived steps)."""
        return ["processes", "steps", *self.lists]

    def terms(self, name: str) -> dict[str, Term]:
        """Return the terms of one list by code; "steps" is the union of all process steps."""
        if name == "processes":
            return dict(self.processes)
        if name == "steps":
            return {code: term for steps in self.steps.values() for code, term in steps.items()}
        return dict(self.lists.get(name, {}))

    def has_list(self, name: str) -> bool:
        """Return True when a list of that name exists."""
        return name in ("processes", "steps") or name in self.lists

    def codes(self, name: str) -> list[str]:
        """Return the codes of one list in file order."""
        return list(self.terms(name))

    def term(self, name: str, code: str) -> Term | None:
        """Return the term with that code in a list, or None."""
        return self.terms(name).get(code)

    def label(self, name: str, code: str) -> str:
        """Return the human label of a code in a list (the code itself when unknown)."""
        term = self.term(name, code)
        return term.label if term else code

    def resolve(self, name: str, value: str, process: str | None = None) -> str | None:
        """Return the code that a typed value names (code or label, any case), or None."""
        pool = self.steps[process] if name == "steps" and process in self.steps else self.terms(name)
        if value in pool:
            return value
        wanted = value.strip().casefold()
        for code, term in pool.items():
            if wanted in (code.casefold(), term.label.casefold()):
                return code
        return None

    # --- processes and sites ----------------------------------------------------------------------

    def steps_for(self, process: str) -> list[str]:
        """Return the step codes of a process in order (empty for an unknown process)."""
        return list(self.steps.get(process, {}))

    def step_label(self, step: str, process: str | None = None) -> str:
        """Return the label of a step, looked up in the given process first."""
        if process and step in self.steps.get(process, {}):
            return self.steps[process][step].label
        return self.label("steps", step)

    def process_of_step(self, step: str) -> list[str]:
        """Return the processes that have a step with this code."""
        return [p for p, steps in self.steps.items() if step in steps]

    def site_role(self, site: str) -> str | None:
        """Return the role of a site (sending, receiving or both), or None when unknown."""
        term = self.lists.get("sites", {}).get(site)
        return term.attrs.get("role") if term else None

    # --- synonyms ---------------------------------------------------------------------------------

    def synonyms_for(self, term: str) -> list[str]:
        """Return the other terms in the synonym group of a term (case-insensitive), else []."""
        key = " ".join(term.split()).casefold()
        for group in self.synonym_groups:
            if any(_key(t) == key for t in group):
                return [t for t in group if _key(t) != key]
        return []

    def matched_terms(self, query: str) -> list[str]:
        """Return the synonym terms found in a query, left to right, longest match first."""
        if not self._matcher:
            return []
        return [self._names[int(m.lastgroup[1:])] for m in self._matcher.finditer(query) if m.lastgroup]

    def expansions(self, query: str) -> list[str]:
        """Return the synonyms that expand_query would append, in order, without duplicates."""
        added: list[str] = []
        done_groups: set[int] = set()
        for term in self.matched_terms(query):
            gi = self._group_of[term]
            if gi in done_groups:
                continue
            done_groups.add(gi)
            for other in self.synonym_groups[gi]:
                if self._term_res[other].search(query) or _key(other) in map(_key, added):
                    continue
                added.append(other)
        return added

    def expand_query(self, query: str) -> str:
        """Return the query with the synonyms of the terms it contains appended (deterministic)."""
        extra = self.expansions(query)
        return f"{query} {' '.join(extra)}" if extra else query


def _key(term: str) -> str:
    return " ".join(term.split()).casefold()


def _merge_groups(groups: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    """Union groups that share a term (case-insensitive), keeping first-seen order."""
    merged: list[list[str]] = []
    for group in groups:
        terms: list[str] = []
        for t in group:
            if _key(t) not in map(_key, terms):
                terms.append(" ".join(t.split()))
        keys = {_key(t) for t in terms}
        hits = [i for i, g in enumerate(merged) if keys & {_key(t) for t in g}]
        if not hits:
            merged.append(terms)
            continue
        target = merged[hits[0]]
        for i in hits[1:]:
            target.extend(t for t in merged[i] if _key(t) not in map(_key, target))
        target.extend(t for t in terms if _key(t) not in map(_key, target))
        for i in reversed(hits[1:]):
            del merged[i]
    return [tuple(g) for g in merged if len(g) > 1]


# --- loading ----------------------------------------------------------------------------------------


def default_vocabulary_paths(home: str | os.PathLike[str] | None = None) -> list[Path]:
    """Return the shipped vocabulary plus HOME/vocabulary.yaml when that file exists.

    HOME is the knowledge base folder (the CLI's --kb); None: $TACITKB_HOME.
    """
    paths = [SHIPPED_VOCABULARY]
    home = home if home is not None else os.environ.get("TACITKB_HOME")
    if home and (Path(home) / "vocabulary.yaml").is_file():
        paths.append(Path(home) / "vocabulary.yaml")
    return paths


def load_vocabulary(
    paths: Sequence[str | os.PathLike[str]] | None = None, *, home: str | os.PathLike[str] | None = None
) -> Vocabulary:
    """Load and merge vocabulary files in order (later files extend/override); None = the defaults of home."""
    files = default_vocabulary_paths(home) if paths is None else [Path(p) for p in paths]
    processes: dict[str, Term] = {}
    steps: dict[str, dict[str, Term]] = {}
    lists: dict[str, dict[str, Term]] = {}
    groups: list[list[str]] = []
    case_sensitive: set[str] = set()
    problems: list[str] = []
    for path in files:
        data = _read(path, problems)
        if data is None:
            continue
        before = len(problems)
        _check(path, data, problems)
        if len(problems) > before:
            continue
        for code, raw in (data.get("processes") or {}).items():
            raw = raw if isinstance(raw, Mapping) else {"label": raw}
            attrs = {k: v for k, v in raw.items() if k != "steps"}
            processes[code] = _merge_term(processes.get(code), code, attrs)
            known = steps.setdefault(code, {})
            for step, sraw in (raw.get("steps") or {}).items():
                known[step] = _merge_term(known.get(step), step, sraw)
        for name, entries in data.items():
            if name in SPECIAL_KEYS:
                continue
            known = lists.setdefault(name, {})
            for code, raw in (entries or {}).items():
                known[code] = _merge_term(known.get(code), code, raw)
        groups.extend(list(g) for g in data.get("synonyms") or [])
        case_sensitive.update(data.get("case_sensitive_terms") or [])
    if problems:
        raise VocabularyError("invalid vocabulary:\n" + "\n".join(problems))
    return Vocabulary(processes, steps, lists, groups, frozenset(case_sensitive), tuple(files))


class QueryExpander:
    """Search's default query expansion: `expand_query` of the default vocabulary, read at the first query.

    Expansion is on by default in the CLI and the app (it was part of the search setting chosen on the
    labelled sets, docs/benchmarks.md section 3); reading the vocabulary only when a query comes keeps it
    off the start-up of commands that never search.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]] | None = None,
        *,
        home: str | os.PathLike[str] | None = None,
    ) -> None:
        self.paths = paths
        self.home = home  # whose vocabulary.yaml extends the shipped one (None: $TACITKB_HOME)
        self._vocabulary: Vocabulary | None = None
        # Why expansion is off, when the vocabulary files cannot be read: searches then run on the words
        # as typed and the CLI and the app show this (an import names the same problem as an error).
        self.problem: str | None = None

    def __call__(self, query: str) -> str:
        if self._vocabulary is None and self.problem is None:
            try:
                self._vocabulary = load_vocabulary(self.paths, home=self.home)
            except VocabularyError as exc:
                self.problem = f"{exc}\nsearching without vocabulary expansion until it is fixed"
        return query if self._vocabulary is None else self._vocabulary.expand_query(query)


def _read(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror or exc}")
        return None
    except yaml.YAMLError as exc:
        problems.append(f"{path}: invalid YAML: {exc}")
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: the top level must be a mapping of keys, got {type(data).__name__}")
        return None
    return data


def _merge_term(old: Term | None, code: str, raw: Any) -> Term:
    attrs = dict(old.attrs) if old else {}
    if isinstance(raw, Mapping):
        attrs.update({k: v for k, v in raw.items() if k != "label"})
        label = raw.get("label") or (old.label if old else code)
    else:
        label = raw if raw is not None else (old.label if old else code)
    return Term(code, str(label), attrs)


def _check(path: Path, data: dict[str, Any], problems: list[str]) -> None:
    """Append one message per problem, each naming the file and the key."""

    def bad(key: str, message: str) -> None:
        problems.append(f"{path}: key '{key}': {message}")

    if "steps" in data:
        bad("steps", "steps are declared under processes.<process>.steps, not at the top level")
    for name, entries in data.items():
        if not isinstance(name, str):
            bad(str(name), "list names must be strings")
        elif name in ("synonyms", "case_sensitive_terms", "steps"):
            continue
        elif entries is not None and not isinstance(entries, dict):
            bad(name, f"must be a mapping of code -> label, got {type(entries).__name__}")
        else:
            _check_terms(name, entries or {}, bad)
    for code, raw in (data.get("processes") or {}).items():
        if isinstance(raw, Mapping) and raw.get("steps") is not None:
            if isinstance(raw["steps"], dict):
                _check_terms(f"processes.{code}.steps", raw["steps"], bad)
            else:
                bad(f"processes.{code}.steps", "must be a mapping of step code -> label")
    for code, raw in (data.get("sites") or {}).items():
        role = raw.get("role") if isinstance(raw, Mapping) else None
        if role is not None and role not in SITE_ROLES:
            bad(f"sites.{code}.role", f"must be one of {', '.join(SITE_ROLES)}, got {role!r}")
    synonyms = data.get("synonyms")
    if synonyms is not None and not isinstance(synonyms, list):
        bad("synonyms", "must be a list of groups (lists of equivalent terms)")
    for i, group in enumerate(synonyms if isinstance(synonyms, list) else []):
        if not isinstance(group, list) or len(group) < 2:
            bad(f"synonyms[{i}]", "a group must be a list of at least two terms")
        elif not all(isinstance(t, str) and t.strip() for t in group):
            bad(f"synonyms[{i}]", "every term must be a non-empty string (quote numbers and yes/no)")
    cs = data.get("case_sensitive_terms")
    if cs is not None and not (isinstance(cs, list) and all(isinstance(t, str) for t in cs)):
        bad("case_sensitive_terms", "must be a list of strings")


def _check_terms(prefix: str, entries: dict[Any, Any], bad: Any) -> None:
    for code, raw in entries.items():
        key = f"{prefix}.{code}"
        if not isinstance(code, str) or not code.strip():
            bad(key, "codes must be non-empty strings (quote numbers and yes/no)")
        elif raw is not None and not isinstance(raw, (str, Mapping)):
            bad(key, f"must be a label or a mapping with a label, got {type(raw).__name__}")
        elif isinstance(raw, Mapping) and "label" in raw and not isinstance(raw["label"], str):
            bad(f"{key}.label", "must be a string")

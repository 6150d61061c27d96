"""Capture templates: load them from YAML, check answers against them and turn answers into Entry drafts."""

from __future__ import annotations

import copy
import json
import math
import os
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ingest.vocabulary import Vocabulary
from kb.models import TEXT_FIELDS, Entry, KBError

SHIPPED_TEMPLATES_DIR = Path(__file__).with_name("templates")
SCHEMA_PATH = Path(__file__).with_name("template_schema.json")
FIELD_KINDS: tuple[str, ...] = (
    "text",
    "long_text",
    "number",
    "choice",
    "multi_choice",
    "date",
    "datetime",
    "batch_id",
    "boolean",
)
# Entry attributes a field can fill (by its name, or explicitly with maps_to).
ENTRY_ATTRIBUTES: tuple[str, ...] = tuple(f for f in TEXT_FIELDS if f not in ("type", "title", "text"))
DEFAULT_BATCH_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._/-]{2,39}"
MAX_TITLE_CHARS = 120
PROBES_KEY = "probes"  # where the answers of an entry_per: probe template go
_TRUE = {"yes", "y", "true", "1", "ja"}
_FALSE = {"no", "n", "false", "0", "nee"}
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


# --- the template model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One question of a template: what is asked, how it is checked and where the answer goes."""

    name: str
    label: str
    kind: str
    help: str = ""
    required: bool = False
    unit: str | None = None
    choices: tuple[str, ...] = ()
    vocabulary: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    pattern: str | None = None
    at_least: str | None = None
    maps_to: str | None = None

    @property
    def entry_attribute(self) -> str | None:
        """Return the Entry attribute this answer fills, if any."""
        return self.maps_to or (self.name if self.name in ENTRY_ATTRIBUTES else None)


@dataclass(frozen=True)
class Probe:
    """One interview question with its follow-ups and the fields its answer fills."""

    id: str
    question: str
    fills: tuple[str, ...]
    follow_ups: tuple[str, ...] = ()
    category: str | None = None
    repeatable: bool = False


@dataclass(frozen=True)
class CategorySpec:
    """How an entry_per: probe template records each probe's category in the entry."""

    field: str
    label: str
    vocabulary: str | None = None


@dataclass
class Template:
    """A loaded, validated capture template."""

    id: str
    version: int | str
    title: str
    method: str
    entry_type: str
    fields: tuple[FieldSpec, ...]
    description: str = ""
    entry_per: str = "template"
    category: CategorySpec | None = None
    title_fields: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    probes: tuple[Probe, ...] = ()
    path: Path | None = None
    overrides: Path | None = None  # the file of the template this one replaced, if any

    def field(self, name: str) -> FieldSpec:
        """Return the field with that name (KeyError when absent)."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def probe(self, probe_id: str) -> Probe:
        """Return the probe with that id (KeyError when absent)."""
        for probe in self.probes:
            if probe.id == probe_id:
                return probe
        raise KeyError(probe_id)

    @property
    def probe_field_names(self) -> frozenset[str]:
        """Return the names of fields answered per probe (entry_per: probe only)."""
        if self.entry_per != "probe":
            return frozenset()
        return frozenset(name for probe in self.probes for name in probe.fills)

    @property
    def shared_fields(self) -> tuple[FieldSpec, ...]:
        """Return the fields answered once for the whole template (all fields unless entry_per: probe)."""
        return tuple(f for f in self.fields if f.name not in self.probe_field_names)


@dataclass(frozen=True)
class TemplateError:
    """A template file that could not be used (or, kind "override", a notice that one replaced another)."""

    path: Path
    message: str
    kind: str = "invalid"  # missing_dir | yaml | schema | invalid | duplicate | override
    json_path: str | None = None

    @property
    def fatal(self) -> bool:
        """Return False for notices (an override), True for real errors."""
        return self.kind != "override"

    def __str__(self) -> str:
        where = f" at {self.json_path}" if self.json_path else ""
        return f"{self.path}{where}: {self.message}"


@dataclass(frozen=True)
class FieldError:
    """One problem with one answer; field is a path such as 'batch' or 'probes.readiness[1].range_max'."""

    field: str
    kind: str  # required | not_a_number | out_of_range | not_in_vocabulary | not_a_choice | bad_date
    #            | bad_pattern | not_boolean | bad_type | unknown_field | not_repeatable
    message: str

    def __str__(self) -> str:
        return self.message


class TemplateValidationError(KBError):
    """Answers that do not fit a template; carries every field error and the answers as given."""

    def __init__(self, template_id: str, errors: Sequence[FieldError], answers: Any) -> None:
        self.template_id = template_id
        self.errors = list(errors)
        self.answers = answers
        lines = "\n".join(f"- {e.message}" for e in self.errors)
        super().__init__(
            f"{len(self.errors)} problem(s) with the answers to template '{template_id}':\n{lines}"
        )


# --- loading --------------------------------------------------------------------------------------


def default_template_dirs(home: str | os.PathLike[str] | None = None) -> list[Path]:
    """Return the shipped template dir plus HOME/templates when that dir exists (None: $TACITKB_HOME)."""
    dirs = [SHIPPED_TEMPLATES_DIR]
    home = home if home is not None else os.environ.get("TACITKB_HOME")
    if home and (Path(home) / "templates").is_dir():
        dirs.append(Path(home) / "templates")
    return dirs


@cache
def template_schema() -> dict[str, Any]:
    """Return the JSON Schema every template file is validated against."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def load_templates(
    dirs: Sequence[str | os.PathLike[str]] | None = None,
    vocabulary: Vocabulary | None = None,
    *,
    home: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, Template], list[TemplateError]]:
    """Load every *.yaml/*.yml template from the dirs in order (None: home's defaults); later dirs override by id."""
    templates: dict[str, Template] = {}
    errors: list[TemplateError] = []
    for directory in default_template_dirs(home) if dirs is None else [Path(d) for d in dirs]:
        if not directory.is_dir():
            errors.append(TemplateError(directory, "template directory not found", "missing_dir"))
            continue
        seen_here: dict[str, Path] = {}
        for path in sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()):
            template, problems = load_template_file(path, vocabulary)
            errors.extend(problems)
            if template is None:
                continue
            if template.id in seen_here:
                errors.append(
                    TemplateError(
                        path,
                        f"duplicate template id '{template.id}' (also in {seen_here[template.id]}); "
                        "file skipped",
                        "duplicate",
                        "$.id",
                    )
                )
                continue
            seen_here[template.id] = path
            if template.id in templates:
                template.overrides = templates[template.id].path
                errors.append(
                    TemplateError(
                        path,
                        f"overrides template '{template.id}' from {template.overrides}",
                        "override",
                        "$.id",
                    )
                )
            templates[template.id] = template
    return templates, errors


def load_template_file(
    path: str | os.PathLike[str], vocabulary: Vocabulary | None = None
) -> tuple[Template | None, list[TemplateError]]:
    """Load one template file; on any problem return (None, errors naming the path and JSON path)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return None, [TemplateError(path, f"cannot read: {exc.strerror or exc}", "yaml")]
    except yaml.YAMLError as exc:
        return None, [TemplateError(path, f"invalid YAML: {_yaml_reason(exc)}", "yaml")]
    if data is None:
        return None, [TemplateError(path, "the file is empty", "schema", "$")]
    validator = jsonschema.Draft202012Validator(template_schema())
    schema_errors = sorted(validator.iter_errors(data), key=lambda e: (e.json_path, e.message))
    if schema_errors:
        return None, [TemplateError(path, e.message, "schema", e.json_path) for e in schema_errors]
    problems = _semantic_problems(data, vocabulary)
    if problems:
        return None, [TemplateError(path, message, "invalid", where) for where, message in problems]
    return _build_template(data, path), []


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return (
        f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else " ".join(problem.split())
    )


def _build_template(data: dict[str, Any], path: Path) -> Template:
    fields = tuple(
        FieldSpec(
            name=f["name"],
            label=f["label"],
            kind=f["kind"],
            help=f.get("help", ""),
            required=f.get("required", False),
            unit=f.get("unit"),
            choices=tuple(f.get("choices", ())),
            vocabulary=f.get("vocabulary"),
            min_value=f.get("min"),
            max_value=f.get("max"),
            pattern=f.get("pattern"),
            at_least=f.get("at_least"),
            maps_to=f.get("maps_to"),
        )
        for f in data["fields"]
    )
    probes = tuple(
        Probe(
            id=p["id"],
            question=p["question"],
            fills=tuple(p["fills"]),
            follow_ups=tuple(p.get("follow_ups", ())),
            category=p.get("category"),
            repeatable=p.get("repeatable", False),
        )
        for p in data.get("probes", ())
    )
    cat = data.get("category")
    category = (
        CategorySpec(cat["field"], cat.get("label", "Category"), cat.get("vocabulary")) if cat else None
    )
    return Template(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        method=data["method"],
        entry_type=data["entry_type"],
        fields=fields,
        description=data.get("description", "").strip(),
        entry_per=data.get("entry_per", "template"),
        category=category,
        title_fields=tuple(data.get("title_fields", ())),
        tags=tuple(data.get("tags", ())),
        probes=probes,
        path=path,
    )


def _semantic_problems(data: dict[str, Any], vocabulary: Vocabulary | None) -> list[tuple[str, str]]:
    """Return (json path, message) for what the schema cannot say: cross-references and consistency."""
    names = {f["name"]: i for i, f in reversed(list(enumerate(data["fields"])))}  # first index wins
    return [
        *_field_problems(data, names, vocabulary),
        *_probe_problems(data, names, vocabulary),
        *_output_problems(data, names),
    ]


def _field_problems(
    data: dict[str, Any], names: dict[str, int], vocabulary: Vocabulary | None
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    targets: dict[str, str] = {}
    per_probe = data.get("entry_per", "template") == "probe"
    probe_fields = {n for p in data.get("probes", ()) for n in p["fills"]} if per_probe else set()
    for i, f in enumerate(data["fields"]):
        at, kind, name = f"$.fields[{i}]", f["kind"], f["name"]
        if names[name] != i:
            out.append((f"{at}.name", f"duplicate field name '{name}' (also $.fields[{names[name]}])"))
        if name == PROBES_KEY:
            out.append((f"{at}.name", f"'{PROBES_KEY}' is reserved for probe answers"))
        is_choice = kind in ("choice", "multi_choice")
        if is_choice and ("choices" in f) == ("vocabulary" in f):
            out.append((at, f"a {kind} field needs exactly one of 'choices' or 'vocabulary'"))
        if "choices" in f and not is_choice:
            out.append((f"{at}.choices", "only choice and multi_choice fields take choices"))
        if "vocabulary" in f and kind not in ("choice", "multi_choice", "text"):
            out.append((f"{at}.vocabulary", "only choice, multi_choice and text fields take a vocabulary"))
        if "vocabulary" in f and vocabulary is not None and not vocabulary.has_list(f["vocabulary"]):
            out.append((f"{at}.vocabulary", f"unknown vocabulary list '{f['vocabulary']}'"))
        out.extend(
            (f"{at}.{key}", f"'{key}' only applies to number fields")
            for key in ("unit", "min", "max")
            if key in f and kind != "number"
        )
        if "min" in f and "max" in f and f["min"] > f["max"]:
            out.append((f"{at}.min", f"min {f['min']} is greater than max {f['max']}"))
        if "pattern" in f and kind != "batch_id":
            out.append((f"{at}.pattern", "'pattern' only applies to batch_id fields"))
        elif "pattern" in f:
            try:
                re.compile(f["pattern"])
            except re.error as exc:
                out.append((f"{at}.pattern", f"not a valid regular expression: {exc}"))
        attr = f.get("maps_to") or (name if name in ENTRY_ATTRIBUTES else None)
        if attr and attr in targets:
            out.append((at, f"fields '{targets[attr]}' and '{name}' both fill Entry.{attr}"))
        elif attr:
            targets[attr] = name
        other = f.get("at_least")
        if other is not None and other not in names:
            out.append((f"{at}.at_least", f"unknown field '{other}'"))
        elif other is not None:
            pair = {kind, data["fields"][names[other]]["kind"]}
            if len(pair) != 1 or pair - {"number", "date", "datetime"}:
                out.append(
                    (f"{at}.at_least", "at_least compares two fields of one kind: number, date or datetime")
                )
            elif other in probe_fields and name not in probe_fields:
                out.append(
                    (f"{at}.at_least", f"a shared field cannot be compared with the probe field '{other}'")
                )
    return out


def _probe_problems(
    data: dict[str, Any], names: dict[str, int], vocabulary: Vocabulary | None
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    per_probe = data.get("entry_per", "template") == "probe"
    category = data.get("category")
    cat_list = (category or {}).get("vocabulary")
    check_categories = bool(cat_list and vocabulary and vocabulary.has_list(cat_list))
    seen: set[str] = set()
    for i, p in enumerate(data.get("probes", ())):
        at = f"$.probes[{i}]"
        if p["id"] in seen:
            out.append((f"{at}.id", f"duplicate probe id '{p['id']}'"))
        seen.add(p["id"])
        out.extend(
            (f"{at}.fills[{j}]", f"unknown field '{name}'")
            for j, name in enumerate(p["fills"])
            if name not in names
        )
        if p.get("repeatable") and not per_probe:
            out.append((f"{at}.repeatable", "repeatable probes need entry_per: probe"))
        if category and "category" not in p:
            out.append((at, "every probe needs a category when the template has one"))
        elif check_categories and "category" in p and not vocabulary.term(cat_list, p["category"]):
            out.append((f"{at}.category", f"'{p['category']}' is not in vocabulary list '{cat_list}'"))
    if category and not per_probe:
        out.append(("$.category", "category needs entry_per: probe"))
    if category and category["field"] in names:
        out.append(("$.category.field", f"'{category['field']}' is also a field name"))
    if cat_list and vocabulary is not None and not vocabulary.has_list(cat_list):
        out.append(("$.category.vocabulary", f"unknown vocabulary list '{cat_list}'"))
    return out


def _output_problems(data: dict[str, Any], names: dict[str, int]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    category = data.get("category")
    for i, name in enumerate(data.get("title_fields", ())):
        if name not in names and not (name == "category" and category):
            out.append((f"$.title_fields[{i}]", f"unknown field '{name}'"))
    for i, tag in enumerate(data.get("tags", ())):
        try:
            placeholders = {p for _, p, _, _ in string.Formatter().parse(tag) if p is not None}
        except ValueError:
            placeholders = {"?"}
        if placeholders - {"category"} or (placeholders and not category):
            out.append(
                (f"$.tags[{i}]", "the only placeholder a tag may use is {category}, with a category set")
            )
    return out


# --- checking answers -----------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class _Instance:
    """One entry to be: the probe (if any) and the normalised values (shared + own)."""

    probe: Probe | None
    values: dict[str, Any]
    own: tuple[str, ...] = ()


@dataclass
class _Checker:
    template: Template
    vocabulary: Vocabulary
    context: Mapping[str, Any]
    errors: list[FieldError] = field(default_factory=list)

    def error(self, path: str, spec: FieldSpec | None, kind: str, problem: str) -> None:
        name = f"{spec.label} ({path})" if spec else path
        self.errors.append(FieldError(path, kind, f"{name}: {problem}"))

    def scope(
        self,
        specs: Sequence[FieldSpec],
        raw: Mapping[str, Any],
        prefix: str,
        required: set[str],
        base: Mapping[str, Any],
        where: str,
    ) -> dict[str, Any]:
        """Check the answers of one scope (shared, or one probe answer) and return normalised values."""
        by_name = {s.name: s for s in specs}
        for key in raw:
            if key not in by_name:
                self.error(f"{prefix}{key}", None, "unknown_field", f"not a field of {where}")
        values: dict[str, Any] = {}
        process_field = next((s.name for s in self.template.fields if s.entry_attribute == "process"), None)
        # Process first: the step check depends on it.
        ordered = sorted(specs, key=lambda s: s.name != process_field)
        for spec in ordered:
            path = f"{prefix}{spec.name}"
            process = values.get(process_field) or base.get(process_field) or self.context.get("process")
            try:
                value = None if _blank(raw.get(spec.name)) else self.coerce(spec, raw[spec.name], process)
            except _Invalid as bad:
                self.error(path, spec, bad.kind, bad.message)
                continue
            if not _blank(value):
                values[spec.name] = value
            elif spec.name in required:
                self.error(path, spec, "required", "required, but no answer was given")
        merged = {**base, **values}
        for spec in specs:
            if spec.at_least and spec.name in values and merged.get(spec.at_least) is not None:
                low, high = merged[spec.at_least], values[spec.name]
                if _comparable(low, high) and _order(high) < _order(low):
                    other = self.template.field(spec.at_least)
                    word = "below" if spec.kind == "number" else "earlier than"
                    self.error(
                        f"{prefix}{spec.name}",
                        spec,
                        "out_of_range",
                        f"{_show(high, spec)} is {word} {other.label} ({_show(low, other)})",
                    )
        return values

    def coerce(self, spec: FieldSpec, value: Any, process: str | None) -> Any:
        """Return the normalised answer or raise _Invalid."""
        kind = spec.kind
        if kind in ("text", "long_text", "batch_id", "choice"):
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise _Invalid("bad_type", f"expected text, got {type(value).__name__}")
            value = str(value).strip()
        if kind in ("text", "long_text"):
            if spec.vocabulary:  # suggestions only: keep the typed text when it names no term
                return self.vocabulary.resolve(spec.vocabulary, value, process) or value
            return value
        if kind == "number":
            return _number(value, spec)
        if kind == "choice":
            return self.choice(spec, value, process)
        if kind == "multi_choice":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
                raise _Invalid("bad_type", "expected a list of choices")
            out: list[str] = []
            bad: list[str] = []
            for item in (i.strip() for i in items if i.strip()):
                try:
                    code = self.choice(spec, item, process)
                except _Invalid:
                    bad.append(item)
                    continue
                if code not in out:
                    out.append(code)
            if bad:
                kind = "not_in_vocabulary" if spec.vocabulary else "not_a_choice"
                raise _Invalid(
                    kind,
                    f"{', '.join(map(repr, bad))} not allowed; choose from {self.allowed(spec, process)}",
                )
            return out
        if kind == "date":
            return _date(value)
        if kind == "datetime":
            return _datetime(value)
        if kind == "batch_id":
            pattern = spec.pattern or DEFAULT_BATCH_PATTERN
            if not re.fullmatch(pattern, value):
                raise _Invalid("bad_pattern", f"{value!r} does not look like a batch id (pattern {pattern})")
            return value
        return _boolean(value)

    def choice(self, spec: FieldSpec, value: str, process: str | None) -> str:
        """Return the canonical code for one choice or raise _Invalid."""
        if spec.vocabulary:
            if not self.vocabulary.has_list(spec.vocabulary):
                raise _Invalid(
                    "not_in_vocabulary", f"the template names an unknown vocabulary list '{spec.vocabulary}'"
                )
            code = self.vocabulary.resolve(spec.vocabulary, value, process)
            if code is not None:
                return code
            if spec.vocabulary == "steps" and process and self.vocabulary.resolve("steps", value):
                raise _Invalid(
                    "not_in_vocabulary",
                    f"{value!r} is not a step of {process}; choose from {self.allowed(spec, process)}",
                )
            raise _Invalid(
                "not_in_vocabulary",
                f"{value!r} is not in the vocabulary list '{spec.vocabulary}'; "
                f"choose from {self.allowed(spec, process)}",
            )
        for choice in spec.choices:
            if value.casefold() == choice.casefold():
                return choice
        raise _Invalid("not_a_choice", f"{value!r} is not one of {', '.join(spec.choices)}")

    def allowed(self, spec: FieldSpec, process: str | None) -> str:
        if not spec.vocabulary:
            return ", ".join(spec.choices)
        if spec.vocabulary == "steps" and process in self.vocabulary.steps:
            codes = self.vocabulary.steps_for(process)
        else:
            codes = self.vocabulary.codes(spec.vocabulary)
        return ", ".join(codes[:15]) + (", ..." if len(codes) > 15 else "")

    def run(self, answers: Mapping[str, Any]) -> list[_Instance]:
        """Check all answers; return the entries-to-be (errors collect in self.errors)."""
        if not isinstance(answers, Mapping):
            raise TypeError(f"answers must be a mapping of field -> answer, got {type(answers).__name__}")
        t = self.template
        shared = t.shared_fields
        raw = {k: v for k, v in answers.items() if not (t.entry_per == "probe" and k == PROBES_KEY)}
        for spec in shared:  # the session context pre-fills unanswered fields of the same name
            if _blank(raw.get(spec.name)) and not _blank(self.context.get(spec.name)):
                raw[spec.name] = self.context[spec.name]
        required = {s.name for s in shared if s.required}
        values = self.scope(shared, raw, "", required, {}, f"template '{t.id}'")
        if t.entry_per != "probe":
            return [_Instance(None, values)]
        given = answers.get(PROBES_KEY) or {}
        if not isinstance(given, Mapping):
            self.error(PROBES_KEY, None, "bad_type", "expected a mapping of probe id -> answer")
            return []
        for key in given:
            if key not in {p.id for p in t.probes}:
                self.error(f"{PROBES_KEY}.{key}", None, "unknown_field", "not a probe of this template")
        instances = []
        for probe in t.probes:
            answer = given.get(probe.id)
            if _blank(answer):
                continue
            items = answer if isinstance(answer, list) else [answer]
            if isinstance(answer, list) and not probe.repeatable:
                self.error(
                    f"{PROBES_KEY}.{probe.id}",
                    None,
                    "not_repeatable",
                    "this probe takes one answer, not a list",
                )
                continue
            for i, item in enumerate(items):
                path = f"{PROBES_KEY}.{probe.id}" + (f"[{i}]" if isinstance(answer, list) else "")
                if not isinstance(item, Mapping):
                    self.error(path, None, "bad_type", "expected a mapping of field -> answer")
                    continue
                if all(_blank(v) for v in item.values()):
                    continue
                specs = [f for f in t.fields if f.name in probe.fills] + list(shared)
                required = {f.name for f in specs if f.name in probe.fills and f.required}
                own = self.scope(specs, item, f"{path}.", required, values, f"probe '{probe.id}'")
                instances.append(_Instance(probe, {**values, **own}, tuple(own)))
        if not instances and not any(e.field.startswith(PROBES_KEY) for e in self.errors):
            self.error(PROBES_KEY, None, "required", "answer at least one probe")
        return instances


def validate_answers(
    template: Template,
    answers: Mapping[str, Any],
    vocabulary: Vocabulary,
    context: Mapping[str, Any] | None = None,
) -> list[FieldError]:
    """Return every problem with the answers (empty when they fit the template)."""
    checker = _Checker(template, vocabulary, context or {})
    checker.run(answers)
    return checker.errors


def fill_template(
    template: Template,
    answers: Mapping[str, Any],
    vocabulary: Vocabulary,
    context: Mapping[str, Any] | None = None,
) -> list[Entry]:
    """Turn answers into Entry drafts (id ""); raise TemplateValidationError with all errors if they don't fit."""
    original = copy.deepcopy(answers)
    context = context or {}
    checker = _Checker(template, vocabulary, context)
    instances = checker.run(answers)
    if checker.errors:
        raise TemplateValidationError(template.id, checker.errors, original)
    return [_entry(template, inst, vocabulary, context) for inst in instances]


# --- composing entries ----------------------------------------------------------------------------


def _entry(template: Template, inst: _Instance, vocabulary: Vocabulary, context: Mapping[str, Any]) -> Entry:
    values = inst.values
    attrs: dict[str, str] = {}
    for spec in template.fields:
        if spec.entry_attribute and spec.name in values:
            attrs[spec.entry_attribute] = _plain(values[spec.name])
    for attr in ENTRY_ATTRIBUTES:
        if attr not in attrs and not _blank(context.get(attr)):
            attrs[attr] = _plain(context[attr])
    process = attrs.get("process")
    fields: dict[str, Any] = {"template_id": template.id, "template_version": template.version}
    fields.update((s.name, values[s.name]) for s in template.fields if s.name in values)
    tags: list[str] = []
    category_line = None
    if inst.probe is not None:
        fields["probe_id"] = inst.probe.id
        if template.category and inst.probe.category:
            fields[template.category.field] = inst.probe.category
            label = _label(vocabulary, template.category.vocabulary, inst.probe.category)
            category_line = f"{template.category.label}: {label}"
        tags = [t.format(category=inst.probe.category or "") for t in template.tags]
    else:
        tags = list(template.tags)

    def show(spec: FieldSpec) -> str:
        return _display(spec, values[spec.name], vocabulary, process)

    title_parts = []
    for name in template.title_fields:
        if name == "category" and template.category and inst.probe and inst.probe.category:
            title_parts.append(_label(vocabulary, template.category.vocabulary, inst.probe.category))
        elif name in values:
            title_parts.append(" ".join(show(template.field(name)).split()))
    title = _shorten(" - ".join(p for p in title_parts if p) or template.title, MAX_TITLE_CHARS)
    own_first = [s for s in template.fields if s.name in inst.own] + [
        s for s in template.fields if s.name not in inst.own
    ]
    lines = [category_line] if category_line else []
    lines += [f"{s.label}: {show(s)}" for s in own_first if s.name in values]
    if fields.get("failure_pattern"):
        tags.append(f"failure:{fields['failure_pattern']}")  # so that --tag filters find it
    return Entry(
        type=template.entry_type, title=title, text="\n".join(lines), tags=tags, fields=fields, **attrs
    )


def _label(vocabulary: Vocabulary, list_name: str | None, code: str) -> str:
    return vocabulary.label(list_name, code) if list_name else code


def _display(spec: FieldSpec, value: Any, vocabulary: Vocabulary, process: str | None) -> str:
    """Return an answer as a person would read it: labels for codes, units for numbers, yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if spec.kind == "number":
        return f"{_num(value)} {spec.unit}" if spec.unit else _num(value)
    if spec.vocabulary:
        codes = value if isinstance(value, list) else [value]
        shown = []
        for code in codes:
            if spec.vocabulary == "steps":
                label = vocabulary.step_label(code, process)
            else:
                label = vocabulary.label(spec.vocabulary, code)
            # Codes that read like abbreviations (LEI, CAM) are kept next to the label for search.
            named = re.search(rf"(?<!\w){re.escape(code)}(?!\w)", label, re.IGNORECASE)
            keep_code = code != code.lower() and not named
            shown.append(f"{label} ({code})" if keep_code else label)
        return ", ".join(shown)
    return ", ".join(value) if isinstance(value, list) else str(value)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" -,;:")
    return f"{cut}…"


# --- small value helpers --------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, (list, tuple, dict)) and not value)
    )


def _num(value: float | int) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return _num(value) if isinstance(value, (int, float)) else str(value)


def _show(value: Any, spec: FieldSpec) -> str:
    return f"{_num(value)} {spec.unit}" if spec.kind == "number" and spec.unit else _plain(value)


def _number(value: Any, spec: FieldSpec) -> int | float:
    if isinstance(value, bool):
        raise _Invalid("not_a_number", f"expected a number, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                hint = " (use a dot for decimals)" if re.fullmatch(r"-?\d+,\d+", text) else ""
                raise _Invalid("not_a_number", f"{text!r} is not a number{hint}") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Invalid("not_a_number", f"expected a number, got {value!r}")
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.min_value is not None and value < spec.min_value:
        raise _Invalid(
            "out_of_range", f"{_num(value)}{unit} is below the minimum {_num(spec.min_value)}{unit}"
        )
    if spec.max_value is not None and value > spec.max_value:
        raise _Invalid(
            "out_of_range", f"{_num(value)}{unit} is above the maximum {_num(spec.max_value)}{unit}"
        )
    return value


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise _Invalid("bad_date", f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2024-03-05")


def _datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, str) and _DATETIME_RE.match(value.strip()):
        try:
            return datetime.fromisoformat(value.strip()).isoformat(timespec="seconds")
        except ValueError:
            pass
    raise _Invalid(
        "bad_date", f"{value!r} is not a date and time; use YYYY-MM-DDTHH:MM, e.g. 2024-03-05T14:30"
    )


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().casefold() in _TRUE | _FALSE:
        return value.strip().casefold() in _TRUE
    raise _Invalid("not_boolean", f"expected yes or no, got {value!r}")


def _order(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _comparable(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        da, db = datetime.fromisoformat(a), datetime.fromisoformat(b)
        return (da.tzinfo is None) == (db.tzinfo is None)
    return isinstance(a, (int, float)) and isinstance(b, (int, float))

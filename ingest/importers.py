"""CSV and JSONL importers: rows -> validated Entry drafts plus rejects that name the row and field.

Valid rows are written in one transaction; rejected rows are saved to a reject file beside the import
report, so nothing the user handed in is lost.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kb.knowledge_base import KnowledgeBase
from kb.models import ENTRY_TYPES, SEVERITIES, TEXT_FIELDS, Entry, KBError

MAX_FIELD_CHARS = 1_000_000
MAX_RECORD_FILE_BYTES = 200 * 1024 * 1024
UPLOAD_EXTENSIONS = (".csv", ".jsonl", ".ndjson", ".md", ".markdown", ".txt", ".docx", ".pdf", ".zip")
# Python's csv stops at 131072 characters per field and then reads the rest of that field as new rows;
# let it read whole fields, so that record_to_entry rejects an over-long one by name.
csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_FIELD_CHARS + 1))
MAX_LINKS_FILE_BYTES = 64 * 1024 * 1024
MAX_COLUMNS = 2000  # a record file with more columns than this is refused before any row is read
RECORD_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
FIX_SUFFIX = "/fix"  # ext_id of the fix imported beside a deviation with --fix-from
_SURROGATE = re.compile(r"[\udc80-\udcff]")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%Y%m%d")


@dataclass
class RowReject:
    """One row that could not be imported, with the reason and the row as it was."""

    row: int
    field: str | None
    message: str
    raw: dict[str, Any] | str

    def describe(self, path: Path) -> str:
        """Return a one-line message naming the file, row and field."""
        where = f"{path.name}, row {self.row}" + (f", field '{self.field}'" if self.field else "")
        return f"{where}: {self.message}"


@dataclass
class ParsedRecords:
    """The result of reading a record file: drafts with their row numbers, and rejects."""

    path: Path
    drafts: list[tuple[int, Entry]] = field(default_factory=list)
    rejects: list[RowReject] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    # With --fix-from: position in drafts of a row's deviation -> the fix written in the same row.
    fixes: dict[int, Entry] = field(default_factory=dict)


@dataclass
class ImportReport:
    """What an import did, for people (summary) and machines (JSON)."""

    file: str
    rows: int
    added: int
    updated: int
    duplicates: int
    rejected: int
    rejects_file: str | None
    report_file: str | None
    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    linked: int | None = None  # fixed_by links made with --fix-from

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return asdict(self)


def normalise_header(name: str) -> str:
    """Return a column name as a schema field name would be spelled (lower case, underscores)."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def safe_upload_name(name: str, allowed: tuple[str, ...] = UPLOAD_EXTENSIONS) -> str:
    """Return an uploaded file's name if it is a plain file name with a supported extension, else raise KBError."""
    from pathlib import PurePosixPath, PureWindowsPath

    plain = (
        isinstance(name, str)
        and name.strip() not in ("", ".", "..")
        and "\x00" not in name
        and PurePosixPath(name).name == name
        and PureWindowsPath(name).name == name
    )
    if not plain:
        raise KBError(
            f"upload name '{name}' is not a plain file name (no folders, '..' or drive); rename the file"
        )
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in allowed:
        raise KBError(
            f"upload '{name}': unsupported file type '{suffix or '(none)'}' (expected one of {', '.join(allowed)})"
        )
    return name


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """Return {field: column} from FIELD=COLUMN strings, rejecting unknown fields by name."""
    mapping: dict[str, str] = {}
    allowed = (*TEXT_FIELDS, "tags")
    for pair in pairs:
        if "=" not in pair:
            raise KBError(f"argument '--map': '{pair}' is not FIELD=COLUMN")
        key, column = (part.strip() for part in pair.split("=", 1))
        if key not in allowed:
            raise KBError(f"argument '--map': unknown field '{key}' (fields: {', '.join(allowed)})")
        mapping[key] = column
    return mapping


def parse_date(value: str) -> str:
    """Return a date or timestamp in ISO 8601 (UTC for timestamps), or raise ValueError."""
    text = value.strip()
    try:
        if len(text) > 10 and ("T" in text or " " in text[10:11]):
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if stamp.tzinfo is not None:
                stamp = stamp.astimezone(UTC).replace(tzinfo=None)
            return stamp.isoformat(timespec="seconds")
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"'{value}' is not a date (use YYYY-MM-DD or ISO 8601)")


def record_to_entry(
    record: dict[str, Any],
    mapping: dict[str, str],
    default_type: str | None,
    keep_unmapped: bool = True,
    defaults: dict[str, str] | None = None,
) -> Entry:
    """Return an Entry from one source record, or raise KBError naming the field.

    `defaults` ({field: value}, e.g. site, process, step) fill fields the record leaves empty or lacks.
    """
    by_field: dict[str, Any] = {}
    used: set[str] = set()
    normalised = {normalise_header(k): k for k in record}
    for name in (*TEXT_FIELDS, "tags", "fields"):
        column = mapping.get(name)
        if column is None and name in normalised:
            column = normalised[name]
        if column is None:
            continue
        if column not in record:
            raise KBError(f"field '{name}': mapped column '{column}' is not in the file")
        used.add(column)
        by_field[name] = record[column]
    extra = (
        {k: v for k, v in record.items() if k not in used and v not in (None, "")} if keep_unmapped else {}
    )

    values: dict[str, Any] = {}
    for name, value in by_field.items():
        if isinstance(value, str) and _SURROGATE.search(value):
            raise KBError(f"field '{name}': invalid UTF-8 bytes")
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            raise KBError(f"field '{name}': {len(value)} characters, over the limit of {MAX_FIELD_CHARS}")
        if name in ("tags", "fields"):
            continue
        if value is None:
            continue
        if not isinstance(value, str):
            value = str(value)
        value = value.strip()
        if value:
            values[name] = value
    for key, value in extra.items():
        if isinstance(value, str) and _SURROGATE.search(value):
            raise KBError(f"field '{key}': invalid UTF-8 bytes")

    for name, value in (defaults or {}).items():
        if value and not values.get(name):
            values[name] = value
    entry_type = (values.get("type") or default_type or "").strip().lower().replace(" ", "_")
    if not entry_type:
        raise KBError("field 'type': missing (add a type column or pass --type)")
    if entry_type not in ENTRY_TYPES:
        raise KBError(f"field 'type': unknown type '{entry_type}' (expected one of {', '.join(ENTRY_TYPES)})")
    values["type"] = entry_type
    if not values.get("text"):
        raise KBError("field 'text': empty or whitespace-only text")
    if "occurred_at" in values:
        try:
            values["occurred_at"] = parse_date(values["occurred_at"])
        except ValueError as exc:
            raise KBError(f"field 'occurred_at': {exc}") from exc
    if "severity" in values:
        severity = values["severity"].lower()
        if severity not in SEVERITIES:
            raise KBError(f"field 'severity': '{values['severity']}' is not one of {', '.join(SEVERITIES)}")
        values["severity"] = severity
    tags = _parse_tags(by_field.get("tags"))
    fields_value = by_field.get("fields")
    fields_obj: dict[str, Any] = {}
    if isinstance(fields_value, dict):
        fields_obj = dict(fields_value)
    elif isinstance(fields_value, str) and fields_value.strip():
        try:
            fields_obj = json.loads(fields_value)
        except ValueError as exc:
            raise KBError(f"field 'fields': not a JSON object ({exc})") from exc
        if not isinstance(fields_obj, dict):
            raise KBError("field 'fields': not a JSON object")
    fields_obj.update(extra)
    pattern = fields_obj.get("failure_pattern")
    if isinstance(pattern, str) and pattern and f"failure:{pattern}" not in tags:
        tags.append(f"failure:{pattern}")  # a failure pattern is also a tag, so search filters find it
    return Entry(**values, tags=tags, fields=fields_obj)


def _parse_tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return [str(t).strip() for t in json.loads(text) if str(t).strip()]
        except ValueError as exc:
            raise KBError(f"field 'tags': not a JSON list ({exc})") from exc
    return [t.strip() for t in re.split(r"[;,|]", text) if t.strip()]


def read_records(
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    default_type: str | None = None,
    keep_unmapped: bool = True,
    defaults: dict[str, str] | None = None,
    fix_from: str | None = None,
    check_columns: bool = True,
    limit: int | None = None,
) -> ParsedRecords:
    """Read a CSV or JSONL file into entry drafts and row-level rejects.

    With `check_columns` a file without a text column (or type column and no default type) is refused as
    a whole; a preview that lets the user map columns first passes False and sees per-row rejects.

    With `fix_from` (a column), each row is a deviation (its text from the text column) and, when that
    column is filled, a fix (its text from `fix_from`) with the same context, to be linked fixed_by.
    """
    path = Path(path)
    fmt = RECORD_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise KBError(
            f"{path}: unsupported record format '{path.suffix}' (expected {', '.join(RECORD_FORMATS)})"
        )
    if fix_from is not None and (mapping or {}).get("text") == fix_from:
        raise KBError(f"argument '--fix-from': column '{fix_from}' is also mapped to text")
    if not path.is_file():
        raise KBError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_RECORD_FILE_BYTES:
        raise KBError(
            f"{path}: file is {size / 2**20:.1f} MiB, larger than the {MAX_RECORD_FILE_BYTES // 2**20} MiB "
            "limit for record files (split it into smaller files)"
        )
    # surrogateescape keeps undecodable bytes visible so that only the rows holding them are rejected.
    text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    parsed = ParsedRecords(path)
    mapping = mapping or {}
    rows = _csv_rows(text, parsed) if fmt == "csv" else _jsonl_rows(text, parsed)
    if limit is not None:
        # A trial of the first rows (to check a mapping before the whole file).
        if limit < 1:
            raise KBError(f"argument '--limit': {limit} is not a positive number of rows")
        last = rows[limit - 1][0] if len(rows) >= limit else None
        rows = rows[:limit]
        if last is not None:
            parsed.rejects = [r for r in parsed.rejects if r.row < last]
    missing = {f: c for f, c in mapping.items() if c not in parsed.columns}
    if missing and rows:
        name, column = next(iter(missing.items()))
        raise KBError(
            f"{path}: field '{name}': mapped column '{column}' is not in the file (columns: {', '.join(parsed.columns)})"
        )
    if rows and check_columns:
        _check_columns(parsed, mapping, default_type, fix_from)
    if fix_from is not None:
        default_type = default_type or "deviation"
    for row_no, record in rows:
        try:
            action = record.pop(fix_from, None) if fix_from is not None else None
            draft = record_to_entry(record, mapping, default_type, keep_unmapped, defaults)
            fix = _fix_draft(draft, action) if fix_from is not None else None
            parsed.drafts.append((row_no, draft))
            if fix is not None:
                parsed.fixes[len(parsed.drafts) - 1] = fix
        except KBError as exc:
            if fix_from is not None and action is not None:
                record[fix_from] = action  # the reject file keeps the row as it was
            name = re.match(r"field '([^']+)'", str(exc))
            message = str(exc).split(": ", 1)[1] if name else str(exc)
            parsed.rejects.append(RowReject(row_no, name.group(1) if name else None, message, record))
    parsed.rejects.sort(key=lambda r: r.row)
    return parsed


def _check_columns(
    parsed: ParsedRecords, mapping: dict[str, str], default_type: str | None, fix_from: str | None
) -> None:
    """Refuse a file without a text column (or type column and no --type) before reading any row."""
    columns = ", ".join(parsed.columns)
    present = {normalise_header(c) for c in parsed.columns}
    if "text" not in mapping and "text" not in present:
        raise KBError(f"{parsed.path}: no text column (columns: {columns}); name one with --map text=COLUMN")
    if fix_from is None and default_type is None and "type" not in mapping and "type" not in present:
        raise KBError(
            f"{parsed.path}: no type column (columns: {columns}); pass --type TYPE or --map type=COLUMN"
        )
    if fix_from is not None and fix_from not in parsed.columns:
        raise KBError(
            f"{parsed.path}: argument '--fix-from': column '{fix_from}' is not in the file (columns: {columns})"
        )


def _fix_draft(deviation: Entry, action: Any) -> Entry | None:
    """Return the fix written beside a deviation in the same row (None when the cell is empty)."""
    text = "" if action is None else str(action).strip()
    if not text:
        return None
    if deviation.type != "deviation":
        raise KBError(
            f"field 'type': '{deviation.type}' with --fix-from (a row's first half must be a deviation)"
        )
    if _SURROGATE.search(text):
        raise KBError("field 'text': invalid UTF-8 bytes in the fix column")
    if len(text) > MAX_FIELD_CHARS:
        raise KBError(
            f"field 'text': the fix has {len(text)} characters, over the limit of {MAX_FIELD_CHARS}"
        )
    return Entry(
        type="fix",
        text=text,
        # The fix's id follows its deviation's, so a re-import finds both again.
        ext_id=f"{deviation.ext_id}{FIX_SUFFIX}" if deviation.ext_id else None,
        **deviation.context(),
    )


def _csv_rows(text: str, parsed: ParsedRecords) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise KBError(f"{parsed.path}: the file is empty (no header row)") from exc
    except csv.Error as exc:
        raise KBError(f"{parsed.path}: the header row is not valid CSV ({exc})") from exc
    if len(header) > MAX_COLUMNS:
        raise KBError(f"{parsed.path}: the header row has {len(header)} columns, more than {MAX_COLUMNS}")
    header = [h.strip() for h in header]
    if not any(header):
        raise KBError(f"{parsed.path}: the header row is empty")
    counts = Counter(header)  # linear: a quadratic check took 26 s on a 40k-column header (issue 16)
    dupes = sorted(h for h, n in counts.items() if n > 1)
    if dupes:
        raise KBError(f"{parsed.path}: column '{dupes[0]}' appears more than once in the header")
    parsed.columns = header
    rows: list[tuple[int, dict[str, Any]]] = []
    row_no = 1
    while True:
        row_no += 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # After a csv.Error the reader may be inside a quoted field: stop, so that no text from inside
            # a cell is ever read as a row of its own.
            parsed.rejects.append(
                RowReject(
                    row_no,
                    None,
                    f"malformed CSV ({exc}); this row and the rest of the file were not read",
                    {},
                )
            )
            break
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            raw = dict(zip(header, values, strict=False))
            parsed.rejects.append(
                RowReject(
                    row_no, None, f"has {len(values)} values, the header has {len(header)} columns", raw
                )
            )
            continue
        rows.append((row_no, dict(zip(header, values, strict=True))))
    return rows


def _jsonl_rows(text: str, parsed: ParsedRecords) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    columns: dict[str, None] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if _SURROGATE.search(line):
            parsed.rejects.append(RowReject(line_no, None, "invalid UTF-8 bytes", line))
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            parsed.rejects.append(RowReject(line_no, None, f"not valid JSON ({exc})", line))
            continue
        except RecursionError:
            parsed.rejects.append(RowReject(line_no, None, "nested too deeply to be a record", line[:200]))
            continue
        if not isinstance(record, dict):
            parsed.rejects.append(RowReject(line_no, None, "not a JSON object", line))
            continue
        columns.update(dict.fromkeys(record))
        rows.append((line_no, record))
    parsed.columns = list(columns)
    return rows


def spreadsheet_safe(value: Any) -> Any:
    """Return a CSV cell a spreadsheet shows as text: a leading = + - @ (or tab/CR) gets a quote first."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def write_rejects(parsed: ParsedRecords, out: Path) -> Path:
    """Write rejected rows with their row number, field and reason (CSV keeps the source columns)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        columns = ["_row", "_field", "_error", *parsed.columns]
        with out.open("w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for r in parsed.rejects:
                raw = r.raw if isinstance(r.raw, dict) else {}
                row = {"_row": r.row, "_field": r.field or "", "_error": r.message, **raw}
                writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    else:
        with out.open("w", encoding="utf-8", errors="surrogateescape") as fh:
            for r in parsed.rejects:
                fh.write(
                    json.dumps(
                        {"_row": r.row, "_field": r.field, "_error": r.message, "record": r.raw},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
    return out


def import_records(
    kb: KnowledgeBase,
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    default_type: str | None = None,
    keep_unmapped: bool = True,
    author: str | None = None,
    reports_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
    defaults: dict[str, str] | None = None,
    fix_from: str | None = None,
    allow_type_change: bool = False,
    progress_total: Callable[[int], None] | None = None,
    limit: int | None = None,
) -> ImportReport:
    """Import a CSV or JSONL file: valid rows in one transaction, rejects saved beside the report.

    `defaults` fill site/process/step (or any text field) where a row has none; `fix_from` imports each
    row as a deviation and its fix, linked fixed_by. A row whose ext_id names an entry of another type is
    refused unless `allow_type_change`. `progress_total` is told how many entries will be written;
    `limit` imports only the first rows.
    """
    path = Path(path)
    parsed = read_records(
        path,
        mapping=mapping,
        default_type=default_type,
        keep_unmapped=keep_unmapped,
        defaults=defaults,
        fix_from=fix_from,
        limit=limit,
    )
    drafts = [d for _, d in parsed.drafts]
    fix_positions = sorted(parsed.fixes)
    fixes = [parsed.fixes[i] for i in fix_positions]
    rows = [row for row, _ in parsed.drafts] + [parsed.drafts[i][0] for i in fix_positions]
    if not allow_type_change:
        _refuse_type_changes(kb, path, rows, [*drafts, *fixes])
    if progress_total is not None:
        progress_total(len(drafts) + len(fixes))
    reason = f"import of {path.name}"
    # Pairs are stored with their links in one transaction (nothing half written); a plain import keeps
    # add_many's own transaction, which is taken only after encoding.
    with kb.store.transaction() if fixes else nullcontext():
        result = kb.add_many([*drafts, *fixes], author=author, reason=reason, progress=progress)
        stored = [entry for _, entry in result.outcomes]
        links = [
            kb.link(stored[i].id, "fixed_by", stored[len(drafts) + n].id, author=author, note=reason)
            for n, i in enumerate(fix_positions)
        ]
    records = [
        {"row": row_no, "id": entry.id or None, "ext_id": draft.ext_id, "type": draft.type, "status": kind}
        for row_no, draft, (kind, entry) in zip(rows, [*drafts, *fixes], result.outcomes, strict=True)
    ]
    records.sort(key=lambda r: r["row"])  # a row's fix right after its deviation
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    reports_dir = reports_dir or kb.home / "imports"
    base = reports_dir / f"{path.stem}-{stamp}"
    rejects_file = None
    if parsed.rejects:
        suffix = ".rejects.csv" if path.suffix.lower() == ".csv" else ".rejects.jsonl"
        rejects_file = str(write_rejects(parsed, base.with_name(base.name + suffix)))
    report = ImportReport(
        file=str(path),
        rows=len(parsed.drafts) + len(parsed.rejects),
        added=sum(1 for r in records if r["status"] == "added"),
        updated=sum(1 for r in records if r["status"] == "updated"),
        duplicates=sum(1 for r in records if r["status"] == "duplicate"),
        rejected=len(parsed.rejects),
        rejects_file=rejects_file,
        report_file=str(base.with_name(base.name + ".report.json")),
        records=records,
        errors=[r.describe(path) for r in parsed.rejects],
        linked=len(links) if fix_from is not None else None,
    )
    reports_dir.mkdir(parents=True, exist_ok=True)
    Path(report.report_file).write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    return report


def _refuse_type_changes(kb: KnowledgeBase, path: Path, rows: list[int], drafts: list[Entry]) -> None:
    """Raise KBError when rows would turn existing entries (found by ext_id) into another type."""
    clashes = []
    stored = kb.store.find_by_ext_ids([d.ext_id for d in drafts if d.ext_id])
    for row_no, draft in zip(rows, drafts, strict=True):
        previous = stored.get(draft.ext_id) if draft.ext_id else None
        if previous is not None and previous.status == "active" and previous.type != draft.type:
            clashes.append(
                f"row {row_no}: ext_id '{draft.ext_id}' is {previous.id}, a {previous.type}; the row makes it a {draft.type}"
            )
    if clashes:
        more = f" and {len(clashes) - 3} more" if len(clashes) > 3 else ""
        raise KBError(
            f"{path}: {len(clashes)} rows would change the type of existing entries ({'; '.join(clashes[:3])}{more}); "
            "nothing was imported. Pass --allow-type-change to change them, or import the other half of a "
            "problem/action file with --fix-from COLUMN"
        )


def import_links(kb: KnowledgeBase, path: Path, *, author: str | None = None) -> dict[str, Any]:
    """Import links from a CSV with source, relation, target columns (entry ids or ext_ids)."""
    path = Path(path)
    if not path.is_file():
        raise KBError(f"{path}: not a regular file (a links file is a CSV file)")
    if path.stat().st_size > MAX_LINKS_FILE_BYTES:
        raise KBError(f"{path}: larger than {MAX_LINKS_FILE_BYTES // 2**20} MiB; split it")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise KBError(f"{path}: cannot be read as UTF-8 text ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = {normalise_header(h): h for h in reader.fieldnames or []}
    source_col = header.get("source_ext_id") or header.get("source")
    target_col = header.get("target_ext_id") or header.get("target")
    relation_col = header.get("relation")
    if not (source_col and target_col and relation_col):
        raise KBError(
            f"{path}: a links file needs columns source (or source_ext_id), relation, target (or target_ext_id)"
        )
    added, errors = 0, []
    for row_no, row in enumerate(reader, start=2):
        try:
            source = kb.resolve(row[source_col]).id
            target = kb.resolve(row[target_col]).id
            kb.link(source, row[relation_col].strip(), target, author=author)
            added += 1
        except KBError as exc:
            errors.append(f"{path.name}, row {row_no}: {exc}")
    return {"file": str(path), "linked": added, "errors": errors}

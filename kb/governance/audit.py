"""The audit trail: verify its hash chain (naming an edited or deleted event) and export it for people.

Each audit event's hash is the sha256 of its body (time, actor, action, entry, details and the previous
event's hash), and `seq` is AUTOINCREMENT, so:
- an edited event no longer matches its own hash;
- an edited event whose hash was recomputed no longer matches the hash the next event recorded;
- a deleted event leaves a gap in `seq` (or, at the end, `seq` stops below sqlite_sequence).
An attacker who rewrites every later event and sqlite_sequence as well is not caught by the chain
alone: record the head hash that `tacitkb audit verify` prints (e.g. in a signed QA log) to anchor it.

The chain also binds the stored state (`verify_chain` checks it too): each entry write's event carries
the entry's content hash, status, author and the digest of the revision row it wrote; account events
carry role, status and a digest of the password hash; sign events the signature's fields; link events
the link. A row changed, added or deleted behind the store's back no longer matches the chain.
"""

from __future__ import annotations

import csv
import html
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.models import KBError, utc_now
from kb.storage.base import GENESIS_HASH, Store, event_hash
from kb.storage.entry_writes import revision_digest

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

GENESIS = GENESIS_HASH
TRAIL_COLUMNS: tuple[str, ...] = (
    "seq",
    "when_utc",
    "who",
    "action",
    "entry",
    "revision",
    "field",
    "old_value",
    "new_value",
    "reason",
    "details",
)


@dataclass
class AuditCheck:
    """The result of checking the audit chain: ok, or the first bad event and why."""

    ok: bool
    first_bad_seq: int | None
    reason: str
    events: int = 0
    head_hash: str | None = None
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "ok" if self.ok else self.reason

    def to_dict(self) -> dict[str, Any]:
        """Return the check as a JSON-ready dict."""
        return asdict(self)


def _store(kb_or_store: KnowledgeBase | Store) -> Store:
    return getattr(kb_or_store, "store", kb_or_store)


def verify_chain(kb_or_store: KnowledgeBase | Store) -> AuditCheck:
    """Check every audit event against its hash and its neighbours; name the first edited or deleted one."""
    store = _store(kb_or_store)
    rows = store.audit_rows()
    problems: list[tuple[int, str]] = []
    prev_seq, prev_hash = 0, GENESIS
    for seq, at, actor, action, entry_id, details_text, stored_prev, stored_hash in rows:
        gap = seq != prev_seq + 1
        if gap:
            missing = (
                f"event {prev_seq + 1}" if seq == prev_seq + 2 else f"events {prev_seq + 1} to {seq - 1}"
            )
            problems.append((prev_seq + 1, f"{missing} deleted: the sequence jumps from {prev_seq} to {seq}"))
        try:
            details = json.loads(details_text)
        except (TypeError, ValueError):
            details = None
        body_ok = (
            details is not None
            and event_hash(at, actor, action, entry_id, details, stored_prev) == stored_hash
        )
        if not body_ok:
            problems.append(
                (seq, f"event {seq} ({action}, {at}) was edited: its content does not match its hash")
            )
        elif stored_prev != prev_hash and not gap:
            if prev_seq == 0:
                problems.append(
                    (seq, f"event {seq} was edited: the first event must follow the genesis hash")
                )
            else:
                problems.append(
                    (
                        prev_seq,
                        f"event {prev_seq} was edited and re-hashed: event {seq} recorded a different hash for it",
                    )
                )
        prev_seq, prev_hash = seq, stored_hash
    issued = store.highest_issued_audit_seq()
    if issued is not None and issued > prev_seq:
        missing = f"event {issued}" if issued == prev_seq + 1 else f"events {prev_seq + 1} to {issued}"
        problems.append(
            (prev_seq + 1, f"{missing} deleted from the end of the trail (last seq issued {issued})")
        )
    head = rows[-1][7] if rows else None
    state = verify_state(store, rows)
    if not problems and not state:
        return AuditCheck(True, None, "ok", len(rows), head, [])
    problems.sort(key=lambda p: p[0])
    messages = [p[1] for p in problems] + state
    first_seq = problems[0][0] if problems else None
    return AuditCheck(False, first_seq, messages[0], len(rows), head, messages)


_ENTRY_WRITES = ("create", "edit", "retire", "restore")
_ACCOUNT_EVENTS = ("user_create", "user_password", "user_role", "user_disable", "user_enable", "login")


def verify_state(store: Store, rows: list[tuple] | None = None) -> list[str]:
    """Return what in the stored entries, revisions, links, accounts and signatures the chain does not prove."""
    rows = store.audit_rows() if rows is None else rows
    problems: list[str] = []
    latest: dict[str, dict[str, Any]] = {}
    revision_hashes: dict[tuple[str, int], str | None] = {}
    links: set[tuple[str, str, str]] = set()
    accounts: dict[str, dict[str, Any]] = {}
    signatures: dict[int, dict[str, Any]] = {}
    for _seq, _at, actor, action, entry_id, details_text, _prev, _hash in rows:
        try:
            details = json.loads(details_text)
        except (TypeError, ValueError):
            continue  # reported by the chain check
        if not isinstance(details, dict):
            continue
        if action in _ENTRY_WRITES and entry_id and isinstance(details.get("revision"), int):
            latest[entry_id] = details
            revision_hashes[(entry_id, details["revision"])] = details.get("revision_hash")
        elif action == "link" and entry_id:
            links.add((entry_id, str(details.get("relation")), str(details.get("target"))))
        elif action in _ACCOUNT_EVENTS and isinstance(details.get("user"), str):
            state = accounts.setdefault(details["user"].lower(), {})
            if action == "user_create":
                state.update(role=details.get("role"), status="active", created=True)
            elif action == "user_role":
                state["role"] = details.get("new")
            elif action in ("user_disable", "user_enable"):
                state["status"] = "disabled" if action == "user_disable" else "active"
            if "password" in details:
                state["password"] = details["password"]
        elif action == "sign" and isinstance(details.get("signature_id"), int):
            signatures[details["signature_id"]] = details | {"signer": actor, "target": entry_id}
    problems += _check_entries(store, latest)
    problems += _check_revisions(store, revision_hashes)
    for source, relation, target in sorted(store.link_keys() - links):
        problems.append(
            f"link {source} {relation} {target} has no audit event: added behind the store's back"
        )
    for source, relation, target in sorted(links - store.link_keys()):
        problems.append(f"link {source} {relation} {target} was deleted behind the store's back")
    problems += _check_accounts(store, accounts)
    problems += _check_signatures(store, signatures)
    return problems


def _check_entries(store: Store, latest: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    seen = set()
    for entry, revision, stored_hash in store.entry_states():
        seen.add(entry.id)
        bound = latest.get(entry.id)
        if bound is None:
            problems.append(f"entry {entry.id} has no audit event: inserted behind the store's back")
            continue
        if "content_hash" not in bound:
            continue  # written before events carried content hashes: nothing to compare against
        content = entry.compute_hash()
        if bound["revision"] != revision:
            problems.append(
                f"entry {entry.id}: stored revision {revision}, the audit trail's last write made revision "
                f"{bound['revision']}"
            )
        elif content != bound["content_hash"] or stored_hash != bound["content_hash"]:
            problems.append(
                f"entry {entry.id} revision {revision}: content does not match the hash its audit event "
                "recorded (changed behind the store's back)"
            )
        elif entry.status != bound.get("status") or entry.author != bound.get("entry_author"):
            problems.append(
                f"entry {entry.id}: status or author differs from what its audit event recorded "
                "(changed behind the store's back)"
            )
    for missing in sorted(set(latest) - seen):
        problems.append(f"entry {missing} was deleted behind the store's back (the audit trail records it)")
    return problems


def _check_revisions(store: Store, bound: dict[tuple[str, int], str | None]) -> list[str]:
    problems = []
    seen = set()
    for entry_id, revision, action, author, at, reason, changes in store.revision_rows():
        seen.add((entry_id, revision))
        if (entry_id, revision) not in bound:
            problems.append(
                f"revision {revision} of {entry_id} has no audit event: added behind the store's back"
            )
            continue
        expected = bound[(entry_id, revision)]
        if (
            expected is not None
            and revision_digest(entry_id, revision, action, author, at, reason, changes) != expected
        ):
            problems.append(f"revision {revision} of {entry_id} was edited behind the store's back")
    for entry_id, revision in sorted(set(bound) - seen):
        problems.append(f"revision {revision} of {entry_id} was deleted (the audit trail records it)")
    return problems


def _check_accounts(store: Store, accounts: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    states = store.user_states()
    for name, (role, status, password) in sorted(states.items()):
        bound = accounts.get(name)
        if bound is None or not bound.get("created"):
            problems.append(f"account '{name}' has no user_create event: added behind the store's back")
            continue
        if bound.get("role") != role:
            problems.append(
                f"account '{name}': role '{role}' in the database, '{bound.get('role')}' in the audit trail "
                "(changed behind the store's back)"
            )
        if bound.get("status") != status:
            problems.append(f"account '{name}': status '{status}' differs from the audit trail's")
        if "password" in bound and bound["password"] != password:
            problems.append(f"account '{name}': password hash replaced behind the store's back")
    for name in sorted(n for n, b in accounts.items() if b.get("created") and n not in states):
        problems.append(f"account '{name}' was deleted behind the store's back")
    return problems


def _check_signatures(store: Store, bound: dict[int, dict[str, Any]]) -> list[str]:
    problems = []
    seen = set()
    for sid, signer, _role, meaning, _at, target, revision, content_hash, *_ in store.signature_rows():
        seen.add(sid)
        event = bound.get(sid)
        if event is None:
            problems.append(f"signature {sid} on {target} has no sign event: added behind the store's back")
        elif (event["signer"], event["target"], event.get("meaning"), event.get("signed_revision"),
              event.get("content_hash")) != (signer, target, meaning, revision, content_hash):  # fmt: skip
            problems.append(f"signature {sid} on {target} differs from its sign event (edited)")
    for sid in sorted(set(bound) - seen):
        problems.append(f"signature {sid} on {bound[sid]['target']} was deleted behind the store's back")
    return problems


# --- export ---------------------------------------------------------------------------------------


def _bound(value: str | None, argument: str, end: bool) -> str | None:
    """Return an audit-time string bound for a date or timestamp (an end date covers its whole day)."""
    if not value:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            return f"{day.isoformat()}T00:00:00.000000Z"
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError as exc:
        raise KBError(f"argument '{argument}': '{value}' is not a date (use YYYY-MM-DD or ISO 8601)") from exc


def _when(at: str) -> str:
    return at.replace("T", " ").rstrip("Z").split(".")[0] + " UTC"


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _details_line(details: dict[str, Any], skip: tuple[str, ...] = ()) -> str:
    return "; ".join(
        f"{k}={_show(v)}" for k, v in sorted(details.items()) if k not in skip and v not in (None, "")
    )


def trail_rows(
    kb_or_store: KnowledgeBase | Store,
    *,
    entry_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """Return the audit trail as rows: who, when (UTC), action, entry, field, old -> new, reason."""
    store = _store(kb_or_store)
    entry_id = entry_id.strip().upper() if entry_id else None
    low, high = _bound(since, "--since", False), _bound(until, "--until", True)
    events = store.trail_events(entry_id, low, high)
    out: list[dict[str, Any]] = []
    for seq, at, actor, action, entry, details_text in events:
        try:
            details = json.loads(details_text)
        except ValueError:
            details = {"unreadable": details_text}
        details = details if isinstance(details, dict) else {"value": details}
        base = {
            "seq": seq,
            "when_utc": _when(at),
            "who": actor or "",
            "action": action,
            "entry": entry or details.get("user") or "",
            "revision": details.get("revision", ""),
            "field": "",
            "old_value": "",
            "new_value": "",
            "reason": details.get("reason") or "",
            "details": "",
        }
        revision = details.get("revision")
        changes: dict[str, Any] = {}
        if entry and isinstance(revision, int) and action in ("create", "edit", "retire", "restore"):
            changes = store.revision_changes(entry, revision)
        if changes:
            for name, change in sorted(changes.items()):
                out.append(
                    base
                    | {
                        "field": name,
                        "old_value": _show(change.get("old")),
                        "new_value": _show(change.get("new")),
                    }
                )
            continue
        if action == "link":
            out.append(
                base | {"field": "link", "new_value": f"{details.get('relation')} {details.get('target')}"}
            )
        elif action == "user_role":
            out.append(
                base
                | {
                    "field": "role",
                    "old_value": _show(details.get("old")),
                    "new_value": _show(details.get("new")),
                }
            )
        else:
            out.append(base | {"details": _details_line(details, ("reason", "revision"))})
    return out


def _cell(value: Any) -> str:
    """Return a CSV cell that a spreadsheet will show as text, never run as a formula."""
    text = _show(value) if not isinstance(value, int) else str(value)
    if text and (text[0] in "=+@\t\r" or (text[0] == "-" and not _is_number(text))):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def export_trail(
    kb_or_store: KnowledgeBase | Store,
    out: Path | str,
    *,
    entry_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """Write the trail as .csv or .html (the suffix decides) and return what was written."""
    out = Path(out)
    fmt = out.suffix.lower()
    if fmt not in (".csv", ".html", ".htm"):
        raise KBError(f"argument '--out': {out.name}: use a .csv or .html file name")
    store = _store(kb_or_store)
    rows = trail_rows(store, entry_id=entry_id, since=since, until=until)
    check = verify_chain(store)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == ".csv":
        with out.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            writer.writerow(TRAIL_COLUMNS)
            for row in rows:
                writer.writerow([_cell(row[c]) for c in TRAIL_COLUMNS])
    else:
        out.write_text(_html(store, rows, check, entry_id, since, until), encoding="utf-8")
    return {
        "file": str(out),
        "rows": len(rows),
        "events": len({r["seq"] for r in rows}),
        "chain": check.to_dict(),
    }


def _html(
    store: Store,
    rows: list[dict[str, Any]],
    check: AuditCheck,
    entry_id: str | None,
    since: str | None,
    until: str | None,
) -> str:
    esc = html.escape
    scope = (
        ", ".join(f"{k} {v}" for k, v in (("entry", entry_id), ("since", since), ("until", until)) if v)
        or "whole trail"
    )
    status = (
        f"intact ({check.events} events, head hash <code>{esc(check.head_hash or '-')}</code>)"
        if check.ok
        else f"<strong>BROKEN</strong>: {esc(check.reason)}"
    )
    head = "".join(f"<th>{esc(c.replace('_', ' '))}</th>" for c in TRAIL_COLUMNS)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{esc(str(r[c]))}</td>" for c in TRAIL_COLUMNS) + "</tr>" for r in rows
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>TacitKB audit trail</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
th, td {{ border: 1px solid #bbb; padding: 4px 6px; vertical-align: top; text-align: left; }}
td {{ white-space: pre-wrap; word-break: break-word; }}
th {{ background: #eee; }}
</style></head><body>
<h1>Audit trail</h1>
<p>Database: {esc(str(getattr(store, "path", None) or store.location))}<br>
Scope: {esc(scope)}<br>
Generated: {esc(_when(utc_now()))}<br>
Hash chain: {status}<br>
Rows: {len(rows)} (one per changed field). Times are UTC. Old values are shown in full: nothing is overwritten.</p>
<table><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table></body></html>
"""

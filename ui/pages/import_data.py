"""Import: upload records (CSV, JSONL) with a column mapping preview, or documents (MD, TXT, DOCX, PDF)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from ingest.document_import import import_document
from ingest.documents import SUPPORTED_EXTENSIONS, chunk_document, read_document
from ingest.importers import (
    RECORD_FORMATS,
    ParsedRecords,
    normalise_header,
    read_records,
    safe_upload_name,
    write_rejects,
)
from ingest.importers import import_records as run_import
from kb.models import ENTRY_TYPES, TEXT_FIELDS
from ui import state
from ui.widgets import guarded, label_of, md_escape, require_author

UPLOAD_TYPES = sorted(
    {*(s.lstrip(".") for s in RECORD_FORMATS), *(s.lstrip(".") for s in SUPPORTED_EXTENSIONS)}
)
# Fields a column can be mapped to (author is the person importing; fields JSON comes from extra columns).
MAPPABLE = tuple(f for f in (*TEXT_FIELDS, "tags") if f != "author") + ("author",)
AUTO = "(automatic)"


def saved_upload(upload: Any) -> Path:
    """Write the uploaded file to this session's temp folder under its own name and return the path."""
    folder = st.session_state.get("imp_dir")
    if not folder or not Path(folder).is_dir():
        folder = tempfile.mkdtemp(prefix="tacitkb-upload-")
        st.session_state["imp_dir"] = folder
    path = Path(folder) / safe_upload_name(upload.name)  # a plain file name, or KBError shown by the page
    data = upload.getvalue()
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return path


def mapping_from_state(columns: list[str]) -> dict[str, str]:
    """Return {field: column} for the fields the user mapped by hand."""
    mapping = {}
    for name in MAPPABLE:
        column = st.session_state.get(f"imp_map_{name}")
        if column and column != AUTO and column in columns:
            mapping[name] = column
    return mapping


def render_mapping(columns: list[str]) -> None:
    """One selectbox per entry field: automatic (a column of the same name) or a chosen column."""
    normalised = {normalise_header(c): c for c in columns}
    st.markdown("**Column mapping**: columns named like a field map by themselves; choose others here.")
    cols = st.columns(4)
    for i, name in enumerate(MAPPABLE):
        auto = normalised.get(name)
        label = f"{name}" + (f" ← {auto}" if auto else "")
        options = [AUTO, *columns]
        if st.session_state.get(f"imp_map_{name}") not in options:
            st.session_state.pop(f"imp_map_{name}", None)
        cols[i % 4].selectbox(label, options, key=f"imp_map_{name}")


def drafts_frame(parsed: ParsedRecords, limit: int = 50) -> pd.DataFrame:
    """Return the first rows that will be imported, as a table."""
    rows = [
        {
            "row": row,
            "type": e.type,
            "title": e.title or e.text[:60],
            "process": e.process,
            "step": e.step,
            "site": e.site,
            "occurred_at": e.occurred_at,
            "text": e.text[:120],
        }
        for row, e in parsed.drafts[:limit]
    ]
    return pd.DataFrame(
        rows, columns=["row", "type", "title", "process", "step", "site", "occurred_at", "text"]
    )


def rejects_frame(parsed: ParsedRecords) -> pd.DataFrame:
    """Return one row per rejected record: row number, field and reason."""
    return pd.DataFrame(
        [{"row": r.row, "field": r.field or "", "problem": r.message} for r in parsed.rejects],
        columns=["row", "field", "problem"],
    )


def rejects_download(parsed: ParsedRecords, key: str) -> None:
    """Offer the rejected rows (with row, field and reason columns) for download."""
    if not parsed.rejects:
        return
    suffix = ".rejects.csv" if parsed.path.suffix.lower() == ".csv" else ".rejects.jsonl"
    out = write_rejects(parsed, parsed.path.with_name(parsed.path.stem + suffix))
    st.download_button(
        f"Download the {len(parsed.rejects)} rejected rows",
        data=out.read_bytes(),
        file_name=out.name,
        mime="text/csv" if suffix.endswith("csv") else "application/x-ndjson",
        key=key,
    )


def render_records(path: Path) -> None:
    """Preview, map and import a CSV or JSONL file."""
    columns = read_records(path, check_columns=False).columns
    render_mapping(columns)
    default_type = st.selectbox(
        "Type for rows without a type column",
        [None, *ENTRY_TYPES],
        key="imp_default_type",
        format_func=lambda t: t or "—",
    )
    mapping = mapping_from_state(columns)
    # Unchecked: before a text column is mapped, the preview shows why each row would be rejected.
    parsed = read_records(path, mapping=mapping, default_type=default_type, check_columns=False)
    c1, c2 = st.columns(2)
    c1.metric("Rows ready to import", len(parsed.drafts))
    c2.metric("Rows rejected", len(parsed.rejects))
    st.markdown("**Preview**")
    st.dataframe(drafts_frame(parsed), hide_index=True, width="stretch")
    if parsed.rejects:
        st.markdown("**Rejected rows** (fix them in the file, or map the right columns above)")
        st.dataframe(rejects_frame(parsed), hide_index=True, width="stretch")
        rejects_download(parsed, key="imp_rejects_preview")
    who = require_author("import", "import")
    if not st.button(
        f"Import {len(parsed.drafts)} row(s)",
        type="primary",
        disabled=who is None or not parsed.drafts,
        key="imp_go",
    ):
        return
    kb = state.get_kb()
    with state.locked(kb):  # role-checked (import, and adding each type) as this session's account
        state.require(kb, "import")
        report = run_import(kb, path, mapping=mapping, default_type=default_type, author=who)
    st.session_state["imp_result"] = report.to_dict()
    st.success(
        f"{path.name}: added {report.added}, updated {report.updated}, duplicates {report.duplicates}, "
        f"rejected {report.rejected}"
    )
    if report.rejects_file:
        st.download_button(
            "Download the rejected rows",
            data=Path(report.rejects_file).read_bytes(),
            file_name=Path(report.rejects_file).name,
            key="imp_rejects_done",
        )
    for error in report.errors[:200]:
        st.markdown(f"- {md_escape(error)}")


def render_document(path: Path) -> None:
    """Preview and import a Markdown, text, DOCX or PDF document."""
    vocabulary = state.vocabulary()
    doc = read_document(path)
    chunks = chunk_document(doc)
    pages = f", {doc.page_count} pages" if doc.page_count else ""
    st.markdown(
        f"**{md_escape(doc.title)}** · {doc.format}{pages} · {doc.size_bytes:,} bytes · {len(chunks)} chunks"
    )
    with st.expander("First chunks"):
        for chunk in chunks[:5]:
            where = chunk.heading or (f"page {chunk.page}" if chunk.page else "")
            st.caption(where)
            st.text(chunk.text[:600])
    c1, c2, c3 = st.columns(3)
    process = c1.selectbox(
        "Process",
        vocabulary.codes("processes"),
        index=None,
        key="imp_doc_process",
        format_func=label_of(vocabulary, "processes"),
    )
    c2.selectbox(
        "Step",
        vocabulary.steps_for(process) if process else vocabulary.codes("steps"),
        index=None,
        key="imp_doc_step",
        format_func=label_of(vocabulary, "steps", process),
    )
    c3.selectbox("Site", vocabulary.codes("sites"), index=None, key="imp_doc_site")
    who = require_author("import", "import")
    if not st.button("Import document", type="primary", disabled=who is None, key="imp_doc_go"):
        return
    kb = state.get_kb()
    step = st.session_state.get("imp_doc_step")
    if step and process and step not in vocabulary.steps_for(process):
        step = None
    with state.locked(kb):
        state.require(kb, "import")
        result = import_document(
            kb, path, author=who, process=process, step=step, site=st.session_state.get("imp_doc_site")
        )
    st.success(
        f"{path.name}: document {result['id']}, {result['chunks']} chunks; added {result['added']}, "
        f"updated {result['updated']}, unchanged {result['duplicates']}, retired {result['retired']}"
    )


def render() -> None:
    """The Import page."""
    st.title("Import")
    st.caption(
        "Records: CSV or JSONL, one entry per row. Documents: Markdown, text, DOCX or PDF, split into searchable "
        "chunks. Re-importing the same file adds nothing."
    )
    # The role first: a session that may not import gets no upload box, so no file is parsed for nothing.
    if require_author("import", "import") is None:
        return
    upload = st.file_uploader("File", type=UPLOAD_TYPES, key="imp_file")
    if upload is None:
        return
    path = saved_upload(upload)
    if path.suffix.lower() in RECORD_FORMATS:
        render_records(path)
    else:
        render_document(path)


guarded(render)

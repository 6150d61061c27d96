"""Import: CSV/JSONL preview with column mapping, per-row errors and rejected rows; documents."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tests.ui.conftest import assert_clean, texts, unescape

FIXTURES = Path(__file__).resolve().parents[1] / "ingest" / "fixtures"
CSV = (
    "Kind,Observation,process,step,site,occurred_at,ext_id\n"
    "cue,Bag felt warm at receipt from the courier,CAR-T,apheresis_receipt,LEI,2025-08-01,FN-1\n"
    "cue,,CAR-T,expansion,LEI,2025-08-02,FN-2\n"
    "cue,Clumps on day 5 in the G-Rex,CAR-T,expansion,LEI,03/08/2025,FN-3\n"
    "gossip,Coffee machine broken,CAR-T,expansion,LEI,2025-08-04,FN-4\n"
)


def upload(at, name: str, data: bytes, mime: str = "text/csv"):
    at.file_uploader(key="imp_file").upload(name, data, mime).run()
    assert_clean(at)
    return at


def test_csv_preview_mapping_rejects_and_import(open_app, check_kb):
    at = upload(
        open_app("import_data", user=("Ida", "MSAT / process engineer")), "floor_notes.csv", CSV.encode()
    )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows ready to import"] == "0", "no text or type column until they are mapped"
    at.selectbox(key="imp_map_text").select("Observation").run()
    at.selectbox(key="imp_map_type").select("Kind").run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Rows ready to import"], metrics["Rows rejected"]) == ("1", "3")
    rejects = at.dataframe[1].value
    assert list(rejects["row"]) == [3, 4, 5]
    assert list(rejects["field"]) == ["text", "occurred_at", "type"]
    assert "is not a date" in rejects["problem"][1]
    downloads = at.get("download_button")
    assert downloads and "3 rejected rows" in downloads[0].proto.label

    at.button(key="imp_go").click().run()
    assert_clean(at)
    assert any("added 1" in s.value and "rejected 3" in s.value for s in at.success)
    entry = check_kb.store.find_by_ext_id("FN-1")
    assert entry.text == "Bag felt warm at receipt from the courier" and entry.author == "Ida"
    assert entry.id in [h.entry.id for h in check_kb.search("courier delivered a warm apheresis bag", k=5)]
    report_errors = unescape(texts(at))
    assert "floor_notes.csv, row 4, field 'occurred_at'" in report_errors

    at.button(key="imp_go").click().run()  # the same file again adds nothing
    assert any("added 0" in s.value and "duplicates 1" in s.value for s in at.success)


def test_jsonl_with_a_broken_line(open_app, check_kb):
    lines = [
        json.dumps(
            {
                "type": "fix",
                "text": "Swapped the pH probe; readings matched offline",
                "ext_id": "J-1",
                "process": "LVV",
                "step": "cell_expansion",
                "site": "CAM",
            }
        ),
        "{not json",
    ]
    at = upload(open_app("import_data"), "notes.jsonl", "\n".join(lines).encode(), "application/json")
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Rows ready to import"], metrics["Rows rejected"]) == ("1", "1")
    assert "not valid JSON" in at.dataframe[1].value["problem"][0]
    at.button(key="imp_go").click().run()
    assert check_kb.store.find_by_ext_id("J-1") is not None


def test_import_needs_a_role_that_may_import(open_app):
    # Issue 16 item 6: the role is checked before any upload is taken (and so before any file is parsed).
    at = open_app("import_data", user=("Otto", "operator"))
    assert_clean(at)
    assert any("your role (operator) may not import files" in w.value for w in at.warning)
    assert not at.get("file_uploader") and not at.metric


def test_path_like_upload_name_is_refused(open_app):
    at = upload(open_app("import_data"), "../../etc/floor_notes.csv", CSV.encode())
    assert any("not a plain file name" in e.value for e in at.error)
    assert not at.metric, "nothing was saved or previewed"


def test_markdown_and_docx_documents(open_app, check_kb):
    md = (FIXTURES / "sop_lvv_transfection.md").read_bytes()
    at = upload(open_app("import_data"), "sop_lvv_transfection.md", md, "text/markdown")
    assert "chunks" in unescape(texts(at))
    at.selectbox(key="imp_doc_process").select("LVV").run()
    at.selectbox(key="imp_doc_step").select("transfection").run()
    at.selectbox(key="imp_doc_site").select("CAM").run()
    at.button(key="imp_doc_go").click().run()
    assert_clean(at)
    message = next(s.value for s in at.success if "sop_lvv_transfection.md" in s.value)
    doc_id = message.split("document ")[1].split(",")[0]
    doc = check_kb.get(doc_id)
    assert doc.type == "document" and doc.process == "LVV" and doc.step == "transfection"

    import docx

    buf = io.BytesIO()
    document = docx.Document()
    document.add_heading("Thaw handling at LEI", level=1)
    document.add_paragraph(
        "Swirl the cryobag in the 37 C bath until one small ice crystal remains, then stop."
    )
    document.save(buf)
    at = upload(
        open_app("import_data"),
        "thaw.docx",
        buf.getvalue(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    at.button(key="imp_doc_go").click().run()
    assert_clean(at)
    assert any("thaw.docx" in s.value for s in at.success)
    hits = check_kb.search("how long to keep the bag in the water bath when thawing", k=5)
    assert any(
        h.entry.fields.get("source_file", "").endswith("thaw.docx") or "cryobag" in h.entry.text for h in hits
    )


def test_empty_file_is_a_message(open_app):
    at = open_app("import_data")
    at.file_uploader(key="imp_file").upload("empty.csv", b"", "text/csv").run()
    assert_clean(at)
    assert any("empty" in e.value for e in at.error)

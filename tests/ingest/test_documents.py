"""Tests for ingest.documents: reading, chunking with provenance, entries and errors."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw

from ingest.documents import (
    DocumentChunk,
    ParsedDocument,
    chunk_document,
    document_entries,
    read_document,
)
from kb.models import MAX_TEXT_CHARS, KBError

FIXTURES = Path(__file__).parent / "fixtures"
SOP_MD = FIXTURES / "sop_lvv_transfection.md"
REPORT_TXT = FIXTURES / "cart_cryo_transfer_report.txt"
SOP_TITLE = "SOP-LVV-012 Lentiviral Vector Production by Transient Transfection"


# ---------------------------------------------------------------------------------------------
# Fixture builders (binary formats are generated so the test shows exactly what they contain)


def make_docx(path: Path) -> Path:
    """Write a CAR-T cryopreservation transfer report as DOCX with a title, headings and a table."""
    d = docx.Document()
    d.add_heading("TTR-CART-007 Cryopreservation Transfer Report", level=0)  # "Title" style
    d.add_paragraph("Sending unit: PD Site A. Receiving unit: GMP Site B.")
    d.add_heading("1 Summary", level=1)
    d.add_paragraph(
        "Post-thaw viability met the >= 70 % criterion in all three engineering runs; "
        "ENG-01 reached only 71 % because the DMSO hold time was 52 minutes."
    )
    # A body paragraph starting with "#" must stay body text, not become a heading.
    d.add_paragraph("# of bags filled per run: 4 (CryoMACS 250, 50 mL each).")
    d.add_heading("2 Formulation", level=1)
    d.add_heading("2.1 Cryoprotectant addition", level=2)
    d.add_paragraph("Add CryoStor CS10 1:1 at 2-8 C over about 2 minutes while swirling the bag.")
    table = d.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [
            ("Parameter", "Site A", "Site B"),
            ("DMSO hold time (min)", "<= 30", "52 (ENG-01)"),
            ("Post-thaw viability", "84 %", "71 %"),
        ]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.add_heading("2.2 Controlled-rate freezing", level=2)
    d.add_heading("2.2.1 Latent heat compensation", level=3)
    d.add_paragraph("The compensation step needed 2 minutes longer on the Site B Kryo 560-16.")
    d.add_paragraph("Pre-cool the chilled plate for 20 minutes", style="List Bullet")
    d.save(str(path))
    return path


PDF_PAGES = [
    "SOP-LVV-012 excerpt, page 1: cell expansion. Seed HEK293T at 0.3 x 10^6 viable cells/mL. "
    "Target a viable cell density (VCD) of 1.0-1.4 x 10^6 cells/mL at transfection on day 3. "
    "Viability must be at least 95 %. " * 3,
    "Page 2: complex formation. Add PEI MAX to the diluted plasmid DNA at a PEI:DNA ratio of 2:1 "
    "(w/w). Invert gently five times and incubate 15 minutes at room temperature. Complexes older "
    "than 20 minutes must not be used. " * 3,
    "Page 3: harvest. Add sodium butyrate to 5 mM 16-20 h after transfection and harvest at 48 h. "
    "Clarify by depth filtration within 2 hours of harvest. " * 3,
]


def make_pdf(path: Path, pages: list[str | None] = PDF_PAGES) -> Path:
    """Write a PDF with one page per entry (None = a blank page) using fpdf2."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def make_scanned_pdf(path: Path) -> Path:
    """Write a PDF whose only page is an image (what a scanner produces): no text layer."""
    img = Image.new("L", (600, 300), 255)
    draw = ImageDraw.Draw(img)
    for y in range(30, 280, 20):
        draw.rectangle([40, y, 560, y + 8], fill=0)  # lines of "text" as pixels
    pdf = FPDF()
    pdf.add_page()
    pdf.image(img, x=10, y=10, w=190)
    pdf.output(str(path))
    return path


def assert_offsets_exact(doc: ParsedDocument, chunks: list[DocumentChunk]) -> None:
    """Every chunk is exactly the slice of doc.text its offsets name, indexed 0..n-1."""
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert doc.text[c.char_start : c.char_end] == c.text
        assert c.text == c.text.strip() and c.text


def assert_covers_all_text(doc: ParsedDocument, chunks: list[DocumentChunk]) -> None:
    """No body character is lost: every non-space character of every section lies in some chunk."""
    covered = set()
    for c in chunks:
        covered.update(range(c.char_start, c.char_end))
    for s in doc.sections:
        missing = [
            i for i in range(s.char_start, s.char_end) if not doc.text[i].isspace() and i not in covered
        ]
        assert not missing, f"uncovered text: {doc.text[missing[0] : missing[0] + 40]!r}"


# ---------------------------------------------------------------------------------------------
# Markdown


def test_markdown_reads_title_hash_and_heading_sections() -> None:
    doc = read_document(SOP_MD)
    assert doc.format == "markdown"
    assert doc.name == "sop_lvv_transfection.md"
    assert doc.title == SOP_TITLE
    assert doc.sha256 == hashlib.sha256(SOP_MD.read_bytes()).hexdigest()
    assert doc.text == SOP_MD.read_text(encoding="utf-8")
    headings = [s.heading for s in doc.sections]
    assert headings[0] is None  # document-control line before the first heading
    assert f"{SOP_TITLE} > 2 Cell expansion > 2.1 Seeding" in headings
    assert f"{SOP_TITLE} > 3 Transfection > 3.2 Complex formation" in headings
    # "## 2 Cell expansion" has no body of its own, so it is a path component but not a section.
    assert f"{SOP_TITLE} > 2 Cell expansion" not in headings


def test_markdown_chunks_carry_heading_paths_and_exact_offsets() -> None:
    doc = read_document(SOP_MD)
    chunks = chunk_document(doc)
    assert_offsets_exact(doc, chunks)
    assert_covers_all_text(doc, chunks)
    by_phrase = {
        "PEI:DNA ratio of 2:1": f"{SOP_TITLE} > 3 Transfection > 3.2 Complex formation",
        "1.0-1.4 x 10^6 cells/mL at transfection": f"{SOP_TITLE} > 2 Cell expansion > 2.1 Seeding",
        "sodium butyrate": f"{SOP_TITLE} > 4 Harvest",
        "Document control": None,
    }
    for phrase, heading in by_phrase.items():
        [chunk] = [c for c in chunks if phrase in c.text]
        assert chunk.heading == heading, phrase
        assert chunk.page is None
    # Heading lines are provenance, not chunk text.
    assert not any(line.startswith("## ") for c in chunks for line in c.text.splitlines())


def test_markdown_hash_inside_code_fence_is_not_a_heading() -> None:
    doc = read_document(SOP_MD)
    chunks = chunk_document(doc)
    [fenced] = [c for c in chunks if "Operator note (not a heading)" in c.text]
    assert fenced.heading == f"{SOP_TITLE} > 3 Transfection > 3.2 Complex formation"
    assert not any("Operator note" in (c.heading or "") for c in chunks)


def test_markdown_long_section_is_split_with_overlap_under_one_heading() -> None:
    doc = read_document(SOP_MD)
    # 80 is shorter than most lines, so the splitter falls back to words and overlap applies
    # (overlap is made of whole pieces: a 90-character line never fits a 30-character overlap).
    chunks = chunk_document(doc, chunk_size=80, chunk_overlap=30)
    assert_offsets_exact(doc, chunks)
    assert_covers_all_text(doc, chunks)
    assert all(len(c.text) <= 80 for c in chunks)
    complex_formation = [c for c in chunks if c.heading and c.heading.endswith("3.2 Complex formation")]
    assert len(complex_formation) >= 4
    assert any(
        b.char_start < a.char_end for a, b in zip(complex_formation, complex_formation[1:], strict=False)
    )


def test_markdown_skipped_levels_closing_hashes_crlf_and_bom(tmp_path: Path) -> None:
    lf = (
        "# Cryo SOP ##\n\nIntro.\n\n### 4.1.1 Thaw bath\n\nThaw at 37 C until a small ice crystal remains.\n"
        "\n## 5 Testing\n\nPost-thaw viability >= 70 %.\n"
    )
    a = tmp_path / "lf.md"
    a.write_text(lf, encoding="utf-8", newline="\n")
    b = tmp_path / "crlf.markdown"
    b.write_bytes(b"\xef\xbb\xbf" + lf.replace("\n", "\r\n").encode("utf-8"))
    doc_a, doc_b = read_document(a), read_document(b)
    assert doc_b.text == doc_a.text  # offsets are defined on BOM-free, LF text
    assert doc_a.title == "Cryo SOP"
    chunks_a, chunks_b = chunk_document(doc_a), chunk_document(doc_b)
    assert chunks_a == chunks_b
    assert [c.heading for c in chunks_a] == [
        "Cryo SOP",
        "Cryo SOP > 4.1.1 Thaw bath",  # H3 directly under H1: path has no phantom H2
        "Cryo SOP > 5 Testing",  # H2 replaces the H3, keeps the H1
    ]
    assert_offsets_exact(doc_b, chunks_b)


# ---------------------------------------------------------------------------------------------
# Plain text


def test_long_text_is_split_with_overlap_and_exact_offsets() -> None:
    doc = read_document(REPORT_TXT)
    assert doc.format == "text"
    assert doc.title == "cart_cryo_transfer_report"  # no headings in .txt: the file stem
    chunks = chunk_document(doc)
    assert len(chunks) >= 4
    assert all(len(c.text) <= 1200 for c in chunks)
    assert all(c.heading is None and c.page is None for c in chunks)
    assert_offsets_exact(doc, chunks)
    assert_covers_all_text(doc, chunks)
    assert chunks[0].text.startswith("TECHNOLOGY TRANSFER REPORT TTR-CART-007")
    assert chunks[-1].text.endswith("pre-cooled before CS10 addition.")


def test_overlap_parameter_controls_overlap() -> None:
    doc = read_document(REPORT_TXT)
    overlapping = chunk_document(doc, chunk_size=300, chunk_overlap=120)
    disjoint = chunk_document(doc, chunk_size=300, chunk_overlap=0)
    assert_offsets_exact(doc, overlapping)
    assert_offsets_exact(doc, disjoint)
    assert any(b.char_start < a.char_end for a, b in zip(overlapping, overlapping[1:], strict=False))
    assert all(b.char_start >= a.char_end for a, b in zip(disjoint, disjoint[1:], strict=False))
    assert len(overlapping) > len(disjoint)


# ---------------------------------------------------------------------------------------------
# DOCX


def test_docx_keeps_headings_and_tables(tmp_path: Path) -> None:
    doc = read_document(make_docx(tmp_path / "TTR-CART-007.docx"))
    assert doc.format == "docx"
    assert doc.title == "TTR-CART-007 Cryopreservation Transfer Report"
    assert "| DMSO hold time (min) | <= 30 | 52 (ENG-01) |" in doc.text
    chunks = chunk_document(doc)
    assert_offsets_exact(doc, chunks)
    assert_covers_all_text(doc, chunks)

    def heading_of(phrase: str) -> str | None:
        [chunk] = [c for c in chunks if phrase in c.text]
        return chunk.heading

    assert heading_of("Sending unit") == "TTR-CART-007 Cryopreservation Transfer Report"
    assert heading_of("ENG-01 reached only 71 %") == "1 Summary"
    assert heading_of("Post-thaw viability | 84 %") == "2 Formulation > 2.1 Cryoprotectant addition"
    assert heading_of("2 minutes longer") == (
        "2 Formulation > 2.2 Controlled-rate freezing > 2.2.1 Latent heat compensation"
    )
    assert heading_of("Pre-cool the chilled plate") == heading_of("2 minutes longer")
    # The "# of bags" paragraph stayed body text under 1 Summary instead of starting a section.
    assert heading_of("of bags filled per run") == "1 Summary"
    assert not any("of bags" in (c.heading or "") for c in chunks)


def test_docx_table_header_row_is_a_markdown_table(tmp_path: Path) -> None:
    doc = read_document(make_docx(tmp_path / "t.docx"))
    lines = doc.text.splitlines()
    header = lines.index("| Parameter | Site A | Site B |")
    assert lines[header + 1] == "| --- | --- | --- |"


# ---------------------------------------------------------------------------------------------
# PDF


def test_pdf_chunks_know_their_page(tmp_path: Path) -> None:
    doc = read_document(make_pdf(tmp_path / "sop_excerpt.pdf"))
    assert doc.format == "pdf"
    assert doc.page_count == 3
    assert doc.title == "sop_excerpt"
    assert [s.page for s in doc.sections] == [1, 2, 3]
    chunks = chunk_document(doc, chunk_size=250, chunk_overlap=40)
    assert_offsets_exact(doc, chunks)
    assert_covers_all_text(doc, chunks)
    assert {c.page for c in chunks} == {1, 2, 3}
    assert all(c.heading is None for c in chunks)
    pages = {s.page: s for s in doc.sections}
    for c in chunks:
        # Split per page: a chunk never runs across a page boundary.
        assert pages[c.page].char_start <= c.char_start and c.char_end <= pages[c.page].char_end
    assert {c.page for c in chunks if "PEI:DNA" in c.text} == {2}
    assert {c.page for c in chunks if "VCD" in c.text} == {1}


def test_pdf_blank_page_keeps_real_page_numbers(tmp_path: Path) -> None:
    doc = read_document(make_pdf(tmp_path / "gap.pdf", [PDF_PAGES[0], None, PDF_PAGES[2]]))
    assert doc.page_count == 3
    assert [s.page for s in doc.sections] == [1, 3]
    chunks = chunk_document(doc)
    assert {c.page for c in chunks if "sodium butyrate" in c.text} == {3}


# ---------------------------------------------------------------------------------------------
# Entries and determinism


def test_document_entries_fields_titles_and_ext_ids() -> None:
    doc = read_document(SOP_MD)
    chunks = chunk_document(doc)
    parent, children = document_entries(
        doc, chunks, author="j.doe", process="LVV", step="transfection", site="Site B"
    )
    assert parent.type == "document"
    assert parent.title == SOP_TITLE
    assert parent.ext_id == "doc:sop_lvv_transfection.md"
    assert parent.fields == {
        "source_file": "sop_lvv_transfection.md",
        "format": "markdown",
        "sha256": doc.sha256,
        "n_chunks": len(chunks),
    }
    assert parent.text.startswith("Document control: SOP-LVV-012 rev C.")
    assert "#" not in parent.text  # summary is body text, not heading markup
    assert 400 <= len(parent.text) <= 502
    assert (parent.author, parent.process, parent.step, parent.site) == (
        "j.doe",
        "LVV",
        "transfection",
        "Site B",
    )

    n = len(chunks)
    assert [e.type for e in children] == ["doc_chunk"] * n
    assert [e.ext_id for e in children] == [f"doc:sop_lvv_transfection.md#{i}" for i in range(n)]
    for entry, chunk in zip(children, chunks, strict=True):
        assert entry.text == chunk.text
        assert len(entry.text) <= MAX_TEXT_CHARS
        assert entry.site == "Site B"
        assert entry.fields == {
            "source_file": "sop_lvv_transfection.md",
            "sha256": doc.sha256,
            "chunk_index": chunk.index,
            "heading": chunk.heading,
            "page": chunk.page,
            "char_start": chunk.char_start,
            "char_end": chunk.char_end,
        }
    [complex_entry] = [e for e in children if "PEI:DNA ratio of 2:1" in e.text]
    i = complex_entry.fields["chunk_index"] + 1
    # The H1 equal to the document title is not repeated after the dash.
    assert complex_entry.title == f"{SOP_TITLE} — 3 Transfection > 3.2 Complex formation ({i}/{n})"
    assert children[0].title == f"{SOP_TITLE} (1/{n})"  # preamble: no heading


def test_pdf_chunk_titles_name_the_page(tmp_path: Path) -> None:
    doc = read_document(make_pdf(tmp_path / "sop_excerpt.pdf"))
    chunks = chunk_document(doc)
    _, children = document_entries(doc, chunks)
    n = len(chunks)
    assert [e.title for e in children] == [f"sop_excerpt — p. {c.page} ({c.index + 1}/{n})" for c in chunks]
    assert [e.fields["page"] for e in children] == [c.page for c in chunks]


@pytest.mark.parametrize("builder", ["md", "txt", "docx", "pdf"])
def test_two_runs_give_identical_chunks_and_entries(tmp_path: Path, builder: str) -> None:
    def build(directory: Path) -> Path:
        directory.mkdir()
        if builder == "md":
            return Path(shutil.copy(SOP_MD, directory))
        if builder == "txt":
            return Path(shutil.copy(REPORT_TXT, directory))
        if builder == "docx":
            return make_docx(directory / "report.docx")
        return make_pdf(directory / "report.pdf")

    runs = []
    for directory in (tmp_path / "run1", tmp_path / "run2"):
        doc = read_document(build(directory))
        chunks = chunk_document(doc, chunk_size=300, chunk_overlap=50)
        parent, children = document_entries(doc, chunks)
        runs.append((doc, chunks, parent, children))
    (doc1, chunks1, parent1, children1), (doc2, chunks2, parent2, children2) = runs
    assert chunks1 == chunks2
    assert doc1.text == doc2.text
    assert parent1.ext_id == parent2.ext_id
    assert [e.ext_id for e in children1] == [e.ext_id for e in children2]
    assert [e.compute_hash() for e in [parent1, *children1]] == [
        e.compute_hash() for e in [parent2, *children2]
    ]


def test_changed_file_keeps_ext_id_but_changes_hash(tmp_path: Path) -> None:
    path = tmp_path / "sop.md"
    path.write_text("# SOP\n\nIncubate PEI:DNA complexes 15 minutes.\n", encoding="utf-8")
    first = document_entries(doc := read_document(path), chunk_document(doc))
    path.write_text("# SOP\n\nIncubate PEI:DNA complexes 12 minutes.\n", encoding="utf-8")
    second = document_entries(doc := read_document(path), chunk_document(doc))
    assert first[0].ext_id == second[0].ext_id == "doc:sop.md"
    assert [e.ext_id for e in first[1]] == [e.ext_id for e in second[1]] == ["doc:sop.md#0"]
    assert first[0].fields["sha256"] != second[0].fields["sha256"]
    assert first[1][0].compute_hash() != second[1][0].compute_hash()


# ---------------------------------------------------------------------------------------------
# Errors: each names the file and the problem


def _error_for(path: Path, **kwargs: object) -> str:
    with pytest.raises(KBError) as info:
        read_document(path, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_error_unsupported_extension_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "batch_record.xlsx"
    path.write_bytes(b"PK\x03\x04")
    msg = _error_for(path)
    assert "batch_record.xlsx" in msg
    assert "unsupported file type .xlsx" in msg
    assert ".docx, .markdown, .md, .pdf, .txt" in msg


def test_error_file_not_found(tmp_path: Path) -> None:
    msg = _error_for(tmp_path / "missing_sop.md")
    assert "missing_sop.md" in msg and "not found" in msg


def test_error_directory_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "reports.md"
    folder.mkdir()
    msg = _error_for(folder)
    assert "reports.md" in msg and "not a file" in msg


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("blank.txt", b"  \n\n\t\n", "empty (no text)"),
        ("blank.md", b"", "empty (no text)"),
        ("outline.md", b"# SOP-LVV-012\n\n## 3 Transfection\n\n### 3.2 Complex formation\n", "no body text"),
    ],
)
def test_error_empty_documents(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    msg = _error_for(path)
    assert name in msg and expected in msg


def test_error_empty_docx(tmp_path: Path) -> None:
    path = tmp_path / "empty.docx"
    docx.Document().save(str(path))
    msg = _error_for(path)
    assert "empty.docx" in msg and "empty" in msg


def test_error_invalid_utf8_names_byte_offset(tmp_path: Path) -> None:
    prefix = b"# SOP\n\nPEI:DNA ratio 2:1 (w/w), 15 min at 20 "
    path = tmp_path / "latin1_sop.txt"
    path.write_bytes(prefix + b"\xb0C\n")  # a Latin-1 degree sign
    msg = _error_for(path)
    assert "latin1_sop.txt" in msg
    assert f"invalid UTF-8 at byte offset {len(prefix)}" in msg
    assert "line 3" in msg


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.docx", b"this is not a zip archive", "not a valid DOCX"),
        ("zip_not_docx.docx", b"PK\x05\x06" + b"\x00" * 18, "not a valid DOCX"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "not a valid PDF"),
        ("renamed.pdf", b"CD19 CAR-T batch record, plain text saved as .pdf", "not a valid PDF"),
    ],
)
def test_error_corrupt_binary_formats(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    msg = _error_for(path)
    assert name in msg and expected in msg


def test_error_truncated_pdf(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf").read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(good[: len(good) // 3])
    msg = _error_for(path)
    assert "truncated.pdf" in msg and "not a valid PDF" in msg


def test_error_scanned_pdf_says_ocr_not_supported(tmp_path: Path) -> None:
    msg = _error_for(make_scanned_pdf(tmp_path / "scanned_batch_record.pdf"))
    assert "scanned_batch_record.pdf" in msg
    assert "no extractable text" in msg and "OCR is not supported" in msg


def test_error_file_too_large(tmp_path: Path) -> None:
    path = REPORT_TXT
    msg = _error_for(path, max_bytes=1024)
    assert "cart_cryo_transfer_report.txt" in msg
    assert "larger than the 1.0 KB limit" in msg
    read_document(path, max_bytes=path.stat().st_size)  # exactly at the limit is allowed


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"chunk_size": 0}, "chunk_size"),
        ({"chunk_size": MAX_TEXT_CHARS + 1}, "chunk_size"),
        ({"chunk_size": 100, "chunk_overlap": 100}, "chunk_overlap"),
        ({"chunk_overlap": -1}, "chunk_overlap"),
    ],
)
def test_error_bad_chunk_parameters(kwargs: dict[str, int], names: str) -> None:
    doc = read_document(SOP_MD)
    with pytest.raises(KBError, match=names):
        chunk_document(doc, **kwargs)


@pytest.mark.parametrize(("user_password", "readable"), [("", True), ("qa-only", False)])
def test_encrypted_pdf(tmp_path: Path, user_password: str, readable: bool) -> None:
    pdf = FPDF()
    # An owner password only restricts editing; a user password is needed to open the file at all.
    pdf.set_encryption(owner_password="owner", user_password=user_password)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Deviation DEV-2024-031: PEI:DNA complexes held 34 minutes before addition.")
    path = tmp_path / "deviation_report.pdf"
    pdf.output(str(path))
    if readable:
        assert "held 34 minutes" in read_document(path).text
    else:
        msg = _error_for(path)
        assert "deviation_report.pdf" in msg and "password-protected" in msg

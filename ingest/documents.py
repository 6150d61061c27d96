"""Read SOPs, batch records and transfer reports (Markdown, text, DOCX, PDF) into provenance-tagged chunks.

The pipeline is pure: ``read_document`` -> ``chunk_document`` -> ``document_entries``. Nothing here
touches the database or an embedding model; the store persists the entries and links chunks to
their parent document with ``chunk_of``.

Offsets: every ``DocumentChunk`` satisfies ``doc.text[chunk.char_start:chunk.char_end] == chunk.text``.
``doc.text`` is the decoded document (UTF-8, BOM removed, CRLF/CR turned into LF) for Markdown and
text, the generated heading-structured Markdown for DOCX, and the page texts joined by a blank line
for PDF. Chunk text is never rewritten: the splitters only choose where to cut, and each chunk is a
whitespace-trimmed slice of ``doc.text``.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from kb.models import MAX_TEXT_CHARS, Entry, KBError

if TYPE_CHECKING:
    from docx.table import Table

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".docx": "docx",
    ".pdf": "pdf",
}
MAX_FILE_BYTES = 50 * 1024 * 1024
DEFAULT_CHUNK_SIZE = 1200
DEFAULT_CHUNK_OVERLAP = 150
SUMMARY_CHARS = 500
HEADING_SEPARATOR = " > "

# Markdown supports six heading levels; deeper DOCX headings are clamped to the deepest one.
_MAX_HEADING_LEVEL = 6
_HEADERS_TO_SPLIT_ON = [("#" * level, f"h{level}") for level in range(1, _MAX_HEADING_LEVEL + 1)]
_DOCX_HEADING_STYLE = re.compile(r"^heading\s*(\d+)$", re.IGNORECASE)
# Lines that Markdown would read as a heading or a code fence; escaped in DOCX body text so that a
# paragraph such as "# of vials thawed" cannot become a heading or swallow the rest of the document.
_MARKDOWN_SPECIAL_LINE = re.compile(r"^(\s*)(#|```|~~~)")
_CLOSING_HASHES = re.compile(r"\s+#+\s*$")


@dataclass(frozen=True)
class Section:
    """A run of body text with one provenance: a heading path (Markdown, DOCX) or a page (PDF)."""

    text: str
    char_start: int
    char_end: int
    heading_path: tuple[str, ...] = ()
    page: int | None = None

    @property
    def heading(self) -> str | None:
        """Return the heading path joined with " > ", or None outside any heading."""
        return HEADING_SEPARATOR.join(self.heading_path) if self.heading_path else None


@dataclass(frozen=True)
class ParsedDocument:
    """A document read from disk: its full text, provenance-tagged sections and file hash."""

    path: Path
    name: str
    format: str  # markdown | text | docx | pdf
    text: str
    sections: tuple[Section, ...]
    sha256: str
    title: str
    size_bytes: int
    page_count: int | None = None  # PDF only


@dataclass(frozen=True)
class DocumentChunk:
    """One retrievable piece of a document, with where it came from."""

    text: str
    index: int
    heading: str | None
    page: int | None
    char_start: int
    char_end: int


# --------------------------------------------------------------------------------------------
# Reading


def read_document(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> ParsedDocument:
    """Read a Markdown, text, DOCX or PDF file into a ParsedDocument, or raise KBError."""
    path = Path(path)
    if not path.exists():
        raise KBError(f"{path}: file not found")
    if not path.is_file():
        raise KBError(f"{path}: not a file")
    fmt = SUPPORTED_EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        shown = path.suffix or "(no extension)"
        raise KBError(f"{path}: unsupported file type {shown}; supported: {supported}")
    size = path.stat().st_size
    if size > max_bytes:
        raise KBError(
            f"{path}: file is {_format_size(size)}, larger than the {_format_size(max_bytes)} limit"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KBError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    sha256 = hashlib.sha256(data).hexdigest()

    page_count: int | None = None
    if fmt == "markdown":
        text = _decode_utf8(data, path)
        sections, first_heading = _markdown_sections(text)
        title = first_heading or path.stem
    elif fmt == "text":
        text = _decode_utf8(data, path)
        sections = _whole_text_section(text)
        title = path.stem
    elif fmt == "docx":
        text, docx_title = _docx_to_markdown(data, path)
        sections, first_heading = _markdown_sections(text)
        title = docx_title or first_heading or path.stem
    else:
        text, sections, page_count = _read_pdf(data, path)
        title = path.stem

    if not text.strip():
        raise KBError(f"{path}: document is empty (no text)")
    if not sections:
        # Headings alone (no body under any of them) leave nothing worth retrieving.
        raise KBError(f"{path}: document has headings but no body text")
    return ParsedDocument(
        path=path,
        name=path.name,
        format=fmt,
        text=text,
        sections=tuple(sections),
        sha256=sha256,
        title=title,
        size_bytes=size,
        page_count=page_count,
    )


def _format_size(n: int) -> str:
    """Return a byte count as a short human string (bytes, KB or MB)."""
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _decode_utf8(data: bytes, path: Path) -> str:
    """Decode strict UTF-8 (BOM dropped, newlines normalised to LF) or raise naming the byte offset."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise KBError(
            f"{path}: invalid UTF-8 at byte offset {exc.start} (line {line}, byte 0x{bad}); "
            "re-save the file as UTF-8"
        ) from exc
    text = text.removeprefix("\ufeff")
    # Offsets are defined on LF text so that Windows-edited SOPs chunk exactly like Unix ones.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _trimmed_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Return (start, end) narrowed so text[start:end] has no leading or trailing whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _whole_text_section(text: str) -> list[Section]:
    """Return the whole text as one section without heading or page (empty list if blank)."""
    start, end = _trimmed_span(text, 0, len(text))
    return [Section(text[start:end], start, end)] if end > start else []


def _markdown_sections(text: str) -> tuple[list[Section], str | None]:
    """Split Markdown into heading-path sections with exact offsets; also return the first heading."""
    lines = text.split("\n")
    line_starts: list[int] = []
    pos = 0
    for line in lines:
        line_starts.append(pos)
        pos += len(line) + 1

    # MarkdownHeaderTextSplitter decides which lines are headings (ATX rules, code fences) and the
    # heading path of every other line, but it strips and rejoins lines, so its output cannot be
    # mapped back to offsets. We append a printable, unique line tag to each line: tags only add
    # text at the end of a line, which never changes heading or fence detection (both look at the
    # line start). Lines whose tag is missing from the output are the (stripped) heading lines.
    marker = _unused_marker(text)
    tag_re = re.compile(re.escape(marker) + r"(\d+)" + re.escape(marker))
    tagged = "\n".join(f"{line} {marker}{i}{marker}" for i, line in enumerate(lines))
    splitter = MarkdownHeaderTextSplitter(_HEADERS_TO_SPLIT_ON, strip_headers=True, return_each_line=True)
    line_path: dict[int, tuple[str, ...]] = {}
    for piece in splitter.split_text(tagged):
        path = tuple(
            heading
            for _, key in _HEADERS_TO_SPLIT_ON
            if key in piece.metadata and (heading := _clean_heading(piece.metadata[key], tag_re))
        )
        for match in tag_re.finditer(piece.page_content):
            line_path[int(match.group(1))] = path

    sections: list[Section] = []
    first_heading: str | None = None
    run: list[int] = []  # consecutive body lines under the same heading path

    def flush() -> None:
        if not run:
            return
        start = line_starts[run[0]]
        end = line_starts[run[-1]] + len(lines[run[-1]])
        start, end = _trimmed_span(text, start, end)
        if end > start:
            sections.append(Section(text[start:end], start, end, heading_path=line_path[run[0]]))
        run.clear()

    for i, line in enumerate(lines):
        if i in line_path:
            run.append(i)
            continue
        flush()
        if first_heading is None:
            first_heading = _clean_heading(_heading_text(line), tag_re) or None
    flush()
    return sections, first_heading


def _unused_marker(text: str) -> str:
    """Return a printable line-tag delimiter that does not occur in text (deterministic)."""
    n = 0
    while True:
        marker = "\u27e6tkb" + ("" if n == 0 else str(n)) + "\u27e7"
        if marker not in text:
            return marker
        n += 1


def _heading_text(line: str) -> str:
    """Return the text of an ATX heading line without its leading hashes."""
    return line.strip().lstrip("#")


def _clean_heading(raw: str, tag_re: re.Pattern[str]) -> str:
    """Remove line tags, optional closing hashes and extra spaces from a heading."""
    heading = tag_re.sub("", raw)
    heading = _CLOSING_HASHES.sub("", heading)
    return " ".join(heading.split())


def _docx_to_markdown(data: bytes, path: Path) -> tuple[str, str | None]:
    """Convert a DOCX to heading-structured Markdown (headings, paragraphs, tables); also return its Title."""
    # Imported here so Markdown/text/PDF users do not pay for python-docx's lxml import.
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        title: str | None = None
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                table = _table_to_markdown(item)
                if table:
                    blocks.append(table)
                continue
            style = item.style.name if item.style is not None else ""
            raw = item.text
            if not raw.strip():
                continue
            heading = _DOCX_HEADING_STYLE.match(style or "")
            if heading:
                level = min(max(int(heading.group(1)), 1), _MAX_HEADING_LEVEL)
                blocks.append("#" * level + " " + " ".join(raw.split()))
            elif (style or "").lower() == "title":
                # Rendered as an H1 so it never becomes a stray one-line chunk; the next Heading 1
                # replaces it in the path, and chunk titles drop it where it leads a path.
                title = title or " ".join(raw.split())
                blocks.append("# " + title)
            elif (style or "").lower().startswith("list"):
                blocks.append("- " + _escape_markdown_lines(raw).strip())
            else:
                blocks.append(_escape_markdown_lines(raw))
    except Exception as exc:  # python-docx raises zipfile, KeyError, lxml and its own errors
        raise KBError(f"{path}: not a valid DOCX file ({type(exc).__name__}: {exc})") from exc
    return "\n\n".join(blocks) + ("\n" if blocks else ""), title


def _escape_markdown_lines(raw: str) -> str:
    """Backslash-escape line starts that Markdown would read as headings or code fences."""
    return "\n".join(_MARKDOWN_SPECIAL_LINE.sub(r"\1\\\2", line) for line in raw.split("\n"))


def _table_to_markdown(table: Table) -> str:
    """Render a DOCX table as a Markdown pipe table (first row as header)."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # Horizontally merged cells come back once per grid column; keep one copy.
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()).replace("|", "\\|"))
        if not any(cells):
            continue
        rows.append("| " + " | ".join(cells) + " |")
        if len(rows) == 1:  # first non-empty row is the header
            rows.append("|" + "|".join(" --- " for _ in cells) + "|")
    return "\n".join(rows)


def _read_pdf(data: bytes, path: Path) -> tuple[str, list[Section], int]:
    """Extract text page by page from a PDF; return (text, one section per page with text, page count)."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise KBError(f"{path}: PDF is password-protected; remove the password and re-import")
        page_texts = [_normalise_pdf_text(page.extract_text() or "") for page in reader.pages]
    except KBError:
        raise
    except Exception as exc:  # pypdf raises PdfReadError, but also ValueError/KeyError on broken files
        raise KBError(f"{path}: not a valid PDF file ({type(exc).__name__}: {exc})") from exc
    if not page_texts:
        raise KBError(f"{path}: PDF has no pages")

    parts: list[str] = []
    sections: list[Section] = []
    pos = 0
    for number, page_text in enumerate(page_texts, start=1):
        start, end = _trimmed_span(page_text, 0, len(page_text))
        if end == start:
            continue  # blank or image-only page: keep numbering, add nothing
        if parts:
            parts.append("\n\n")
            pos += 2
        body = page_text[start:end]
        parts.append(body)
        sections.append(Section(body, pos, pos + len(body), page=number))
        pos += len(body)
    if not sections:
        raise KBError(
            f"{path}: PDF has no extractable text (probably a scanned image); OCR is not supported, "
            "export a text PDF or paste the text into a .txt/.md file"
        )
    return "".join(parts), sections, len(page_texts)


def _normalise_pdf_text(text: str) -> str:
    """Normalise PDF-extracted text to LF newlines and NFC so offsets match what users search."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


# --------------------------------------------------------------------------------------------
# Chunking


def chunk_document(
    doc: ParsedDocument,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
) -> list[DocumentChunk]:
    """Split a document into heading- or page-aware chunks whose offsets index doc.text exactly."""
    if not isinstance(chunk_size, int) or not 1 <= chunk_size <= MAX_TEXT_CHARS:
        raise KBError(f"chunk_size must be an integer from 1 to {MAX_TEXT_CHARS}, got {chunk_size!r}")
    if not isinstance(chunk_overlap, int) or not 0 <= chunk_overlap < chunk_size:
        raise KBError(
            f"chunk_overlap must be an integer from 0 to chunk_size - 1 ({chunk_size - 1}), "
            f"got {chunk_overlap!r}"
        )
    # keep_separator="start" makes every split a concatenation of contiguous source pieces, so each
    # chunk (after the splitter's whitespace strip) is a verbatim substring we can locate exactly.
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        keep_separator="start",
        strip_whitespace=True,
    )
    chunks: list[DocumentChunk] = []
    # Markdown/DOCX sections come from MarkdownHeaderTextSplitter (see _markdown_sections); PDF
    # sections are pages, so a chunk never spans two headings or two pages.
    for section in doc.sections:
        for rel_start, piece in _split_with_offsets(section.text, splitter, chunk_size):
            start = section.char_start + rel_start
            end = start + len(piece)
            if doc.text[start:end] != piece:  # pragma: no cover - guards the invariant above
                raise KBError(f"{doc.path}: internal error locating chunk {len(chunks)} in the text")
            chunks.append(
                DocumentChunk(
                    text=piece,
                    index=len(chunks),
                    heading=section.heading,
                    page=section.page,
                    char_start=start,
                    char_end=end,
                )
            )
    return chunks


def _split_with_offsets(
    text: str, splitter: RecursiveCharacterTextSplitter, chunk_size: int
) -> Iterator[tuple[int, str]]:
    """Yield (offset in text, chunk) for each chunk the splitter makes of text."""
    if len(text) <= chunk_size:
        yield 0, text  # section text is already trimmed, so it is its own chunk
        return
    cursor = 0
    for piece in splitter.split_text(text):
        # Chunks come in order and each starts after the previous one's start, so searching from
        # just past the previous start finds this chunk (overlap means it may begin before the
        # previous end).
        at = text.find(piece, cursor)
        if at < 0:  # pragma: no cover - cannot happen with keep_separator="start"
            raise KBError(f"internal error: chunk not found in section text: {piece[:60]!r}")
        yield at, piece
        cursor = at + 1


# --------------------------------------------------------------------------------------------
# Entries


def document_entries(
    doc: ParsedDocument,
    chunks: list[DocumentChunk],
    *,
    author: str | None = None,
    process: str | None = None,
    step: str | None = None,
    site: str | None = None,
) -> tuple[Entry, list[Entry]]:
    """Return the parent "document" entry and one "doc_chunk" entry per chunk (ext_ids stable by file name)."""
    n = len(chunks)
    common = {"author": author, "process": process, "step": step, "site": site}
    parent = Entry(
        type="document",
        title=doc.title,
        text=_summary(doc),
        ext_id=f"doc:{doc.name}",
        fields={
            "source_file": doc.name,
            "format": doc.format,
            "sha256": doc.sha256,
            "n_chunks": n,
        },
        **common,
    )
    children = [
        Entry(
            type="doc_chunk",
            title=_chunk_title(doc, chunk, n),
            text=chunk.text,
            ext_id=f"doc:{doc.name}#{chunk.index}",
            fields={
                "source_file": doc.name,
                "sha256": doc.sha256,
                "chunk_index": chunk.index,
                "heading": chunk.heading,
                "page": chunk.page,
                "char_start": chunk.char_start,
                "char_end": chunk.char_end,
            },
            **common,
        )
        for chunk in chunks
    ]
    return parent, children


def _summary(doc: ParsedDocument, limit: int = SUMMARY_CHARS) -> str:
    """Return the first ~limit characters of body text, whitespace collapsed, cut at a word."""
    # Built from sections, not doc.text, so Markdown heading lines do not crowd out the content.
    flat = " ".join(" ".join(s.text for s in doc.sections).split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + " …"


def _chunk_title(doc: ParsedDocument, chunk: DocumentChunk, n: int) -> str:
    """Return "<doc title> — <heading or p. N> (i/n)"; a leading heading equal to the title is dropped."""
    label: str | None = None
    if chunk.heading:
        parts = chunk.heading.split(HEADING_SEPARATOR)
        # A Markdown H1 that is also the document title would repeat in every chunk title.
        if parts[0] == doc.title:
            parts = parts[1:]
        label = HEADING_SEPARATOR.join(parts) or None
    elif chunk.page is not None:
        label = f"p. {chunk.page}"
    position = f"({chunk.index + 1}/{n})"
    return f"{doc.title} — {label} {position}" if label else f"{doc.title} {position}"

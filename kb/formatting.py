"""Text for people: short tallies of long lists, and user data made literal in Markdown."""

from __future__ import annotations

import re
from typing import Any


def top_values(counts: dict[str, int], n: int = 3) -> str:
    """Return the n most frequent values as 'A 12, B 7, C 3 ... and 297 more' (ties by name)."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {v}" for k, v in ranked[:n])
    return text + (f" ... and {len(ranked) - n} more" if len(ranked) > n else "")


# Every ASCII punctuation mark Markdown (or Streamlit's :directive[...] and :emoji: syntax, GFM autolinks
# of http:// and www., and HTML entities) gives a meaning; CommonMark lets a backslash escape each of them.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|$~:&@=^\"'])")
# GFM turns http://, www. and e-mail addresses into links *after* escapes are resolved (remark-gfm finds
# them in the plain text), so a backslash cannot stop it: an invisible word joiner breaks the pattern.
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|www|mailto|xmpp)(?=[:.])|(@)")
WORD_JOINER = "\u2060"


def md_escape(text: Any, *, keep_newlines: bool = True) -> str:
    """Return user text as literal Markdown: every special character escaped, no autolinks."""
    unlinked = _AUTOLINK.sub(lambda m: (m.group(1) or m.group(2)) + WORD_JOINER, str(text or ""))
    escaped = _MD_SPECIAL.sub(r"\\\1", unlinked)
    return escaped if keep_newlines else escaped.replace("\n", " ")

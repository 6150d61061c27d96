"""Tokens for keyword search: the words of a text (FTS5 unicode61's rules) and their Porter stems."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_STEMMER = snowballstemmer.stemmer("porter")


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """Return the Porter stem of a lower-case word (cached: stemming is the slow part of indexing)."""
    return _STEMMER.stemWord(word)


def words(text: str) -> list[str]:
    """Return the lower-case words of a text, accents removed (what FTS5's unicode61 tokenizer yields)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    if not folded.isascii():
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _TOKEN.findall(folded)


def terms(text: str) -> list[str]:
    """Return the index terms of a text: its words, stemmed."""
    return [stem(w) for w in words(text)]

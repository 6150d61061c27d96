"""Tokens for keyword search: the words of a text (FTS5 unicode61's rules) and their Porter stems."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

# Function words match nearly every entry; left in an OR query they only add noise to BM25 ranks (and
# they are never a drift wave of their own: kb/analytics/drift/terms.py).
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "out",
        "over",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "up",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)
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

"""Short text for long tallies: what a person reads when a record has hundreds of sites or values."""

from __future__ import annotations


def top_values(counts: dict[str, int], n: int = 3) -> str:
    """Return the n most frequent values as 'A 12, B 7, C 3 ... and 297 more' (ties by name)."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {v}" for k, v in ranked[:n])
    return text + (f" ... and {len(ranked) - n} more" if len(ranked) > n else "")

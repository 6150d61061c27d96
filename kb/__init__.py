"""TacitKB core: store, embed, index, search and QA analytics. Knows nothing of Streamlit."""

from kb.knowledge_base import KnowledgeBase, default_home
from kb.models import Entry, Hit, KBError, Link, NotFoundError, Revision
from kb.retrieval.search import SearchFilters

__all__ = [
    "Entry",
    "Hit",
    "KBError",
    "KnowledgeBase",
    "Link",
    "NotFoundError",
    "Revision",
    "SearchFilters",
    "default_home",
]

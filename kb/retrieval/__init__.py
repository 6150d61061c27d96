"""Retrieval: the pinned embedder, the FAISS and BM25 caches, and hybrid search over them."""

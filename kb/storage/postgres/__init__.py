"""The PostgreSQL store: the SQLite Store's public API on a shared database (psycopg 3, a connection pool).

Several app servers and CLI processes write to one database. Every write transaction first takes one
transaction-level advisory lock (WRITE_LOCK), so writers serialise exactly as they do on SQLite's
BEGIN IMMEDIATE, and under that lock:
- entry seqs and audit seqs are MAX(...)+1 inside the transaction: unique, and gap-free (a rolled-back
  transaction uses no number, which a sequence would burn and the audit check would then report);
- the audit chain head is read and extended by one writer at a time, so it stays one hash chain;
- the change counter (meta.version) grows in commit order. PostgreSQL makes a commit visible before it
  releases the transaction's locks, so when a reader sees version v, every change up to v is visible
  too: caches that follow `changes_since(v)` never skip a change committed out of order.
Each committed write also sends NOTIFY tacitkb_changes with the new version, for servers that LISTEN.
Reads take a pooled connection in autocommit (one snapshot per statement, as SQLite's reads do).
"""

from kb.storage.postgres.connection import NOTIFY_CHANNEL, WRITE_LOCK, describe, pg_error
from kb.storage.postgres.store import PostgresStore

__all__ = [
    "NOTIFY_CHANNEL",
    "WRITE_LOCK",
    "PostgresStore",
    "describe",
    "pg_error",
]

"""PostgreSQL-only behaviour: reconnecting after a server restart, NOTIFY on commit, fresh-database races."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import threading
import time

import psycopg
import pytest

from kb.models import Entry, KBError, SearchFilters
from kb.storage.postgres import NOTIFY_CHANNEL, PostgresStore


def test_a_server_restart_gives_a_clear_error_then_the_pool_reconnects(pg_cluster):
    url = pg_cluster.new_database()
    store = PostgresStore(url, timeout_s=5)
    try:
        store.insert([Entry(type="cue", text=f"before restart {i}") for i in range(3)], author="a")
        pg_cluster.stop()
        with pytest.raises(KBError, match=r"PostgreSQL database '.*' on 127\.0\.0\.1:\d+: cannot reach"):
            store.insert([Entry(type="cue", text="while down")], author="a")
        pg_cluster.start()
        # The same store object serves again: dead pooled connections are replaced when taken.
        store.insert([Entry(type="cue", text="after restart")], author="a")
        assert [e.text for e in store.iter_entries()] == [f"before restart {i}" for i in range(3)] + [
            "after restart"
        ]
        assert [e["seq"] for e in store.audit_events()] == [1, 2, 3, 4]
    finally:
        store.close()


def test_reads_on_connections_that_died_idle_are_retried_on_new_ones(pg_cluster):
    url = pg_cluster.new_database()
    store = PostgresStore(url, timeout_s=5)
    try:
        (e,) = store.insert([Entry(type="cue", text="kept across the restart")], author="a")
        assert store.count() == 1
        pg_cluster.restart()  # every pooled connection is now dead, and reads do not check them first
        assert store.count() == 1
        entries, links = store.get_many_with_links([e.id])
        assert entries[e.id].text == "kept across the restart" and links == {e.id: []}
        assert list(store.filter_seqs(SearchFilters())) == [1]
        pg_cluster.stop()
        with pytest.raises(KBError, match="cannot reach the database server"):
            store.count()
        pg_cluster.start()
        assert store.version() == 1
    finally:
        store.close()


def test_filters_are_answered_from_the_index_alone_after_the_upgrade_to_covering_indexes(pg_cluster):
    from kb.storage import schema
    from kb.storage.postgres.reads import _filter_sql

    url = pg_cluster.new_database()
    store = PostgresStore(url)
    try:
        store.insert(
            [
                Entry(type="cue", text=f"note {i}", site="RARE" if i % 100 == 0 else "CAM")
                for i in range(3000)
            ],
            author="a",
        )
        # A database made before migration 7: the old filter indexes, schema version 6.
        with store.transaction():
            for statement in (
                "DROP INDEX entries_by_site",
                "CREATE INDEX entries_by_site ON entries(lower(site), status)",
            ):
                store._tx().execute(statement)
            store.set_meta("schema_version", "6")
    finally:
        store.close()
    store = PostgresStore(url)  # opening applies migration 7
    try:
        assert store.schema_version() == schema.LATEST >= 7
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) entries")
        where, params = _filter_sql(SearchFilters(site="rare"))
        plan = "\n".join(
            r[0]
            for r in store._all(
                f"EXPLAIN SELECT array_agg(seq ORDER BY seq) FROM entries WHERE {where}", params
            )
        )
        assert "Index Only Scan using entries_by_site" in plan, plan
        assert list(store.filter_seqs(SearchFilters(site="rare"))) == list(range(1, 3001, 100))
    finally:
        store.close()


def test_each_committed_write_notifies_its_version_and_a_rollback_does_not(pg_cluster):
    url = pg_cluster.new_database()
    store = PostgresStore(url)
    listener = psycopg.connect(url, autocommit=True)
    try:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        with pytest.raises(RuntimeError), store.transaction():
            store.insert([Entry(type="cue", text="rolled back")], author="a")
            raise RuntimeError("abort")
        store.insert([Entry(type="cue", text="kept")], author="a")
        got = [n.payload for n in listener.notifies(timeout=2, stop_after=1)]
        assert got == [str(store.version())]
    finally:
        listener.close()
        store.close()


def test_servers_opening_a_fresh_database_at_once_create_the_schema_once(pg_cluster):
    url = pg_cluster.new_database()
    opened, errors = [], []

    def open_one() -> None:
        try:
            opened.append(PostgresStore(url))
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == [] and len(opened) == 4
        opened[0].insert([Entry(type="cue", text="x")], author="a")
        assert all(s.count() == 1 and s.version() == 1 for s in opened)
    finally:
        for s in opened:
            s.close()


def test_a_follower_waiting_on_notify_wakes_with_the_committed_version(pg_cluster):
    url = pg_cluster.new_database()
    writer, follower = PostgresStore(url), PostgresStore(url)
    try:
        assert follower.wait_for_change(follower.version(), timeout_s=0.2) is None
        start, woke = follower.version(), []
        waiting = threading.Thread(target=lambda: woke.append(follower.wait_for_change(start, timeout_s=60)))
        waiting.start()
        writer.insert([Entry(type="cue", text="seen by the other server")], author="a")
        waiting.join(90)
        assert woke == [writer.version()] and woke[0] > start
        assert follower.wait_for_change(start, timeout_s=0.2) == woke[0], (
            "an already-passed version returns at once"
        )
        with pytest.raises(RuntimeError, match="inside a transaction"), writer.transaction():
            writer.wait_for_change(0, timeout_s=1)
    finally:
        writer.close()
        follower.close()


def wait_for(condition, limit_s: float = 120) -> None:
    """Wait until condition() holds; fail (instead of hanging) after limit_s."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "the writers made no progress"
        time.sleep(0.05)


def test_a_restart_under_load_loses_no_confirmed_write_and_leaves_nothing_half_written(pg_cluster):
    url = pg_cluster.new_database()
    stores = [PostgresStore(url, timeout_s=5) for _ in range(2)]  # two app servers
    confirmed: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def write(store: PostgresStore, name: str) -> None:
        i = 0
        while not stop.is_set():
            try:
                (e,) = store.insert([Entry(type="cue", text=f"{name} {i}")], author=name)
                confirmed.append(e.text)
            except KBError as exc:
                failures.append(str(exc))
            i += 1

    threads = [threading.Thread(target=write, args=(s, f"w{n}")) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(confirmed) >= 20)
        pg_cluster.restart()
        before = len(confirmed)
        wait_for(lambda: len(confirmed) >= before + 20)  # the servers write again without being reopened
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    try:
        assert failures and all("cannot reach the database server" in f for f in failures), failures[:3]
        entries = {e.text: e for e in stores[0].iter_entries()}
        assert set(confirmed) <= set(entries), "a write confirmed to the caller is missing"
        events = stores[0].audit_events()
        assert [e["seq"] for e in events] == list(range(1, len(entries) + 1))
        assert sorted(e["entry_id"] for e in events) == sorted(e.id for e in entries.values())
        assert all(len(stores[0].history(e.id)) == 1 for e in entries.values())
    finally:
        for s in stores:
            s.close()


def _import_then_hang(url: str, inside: multiprocessing.synchronize.Event) -> None:
    store = PostgresStore(url)
    with store.transaction():
        store.insert([Entry(type="cue", text=f"half an import {i}") for i in range(300)], author="a")
        inside.set()
        time.sleep(600)  # killed here, holding the write lock with the import uncommitted


def test_an_app_server_killed_mid_import_leaves_nothing_and_frees_the_write_lock(pg_cluster):
    url = pg_cluster.new_database()
    ctx = multiprocessing.get_context("spawn")
    inside = ctx.Event()
    other = PostgresStore(url, timeout_s=20)  # the other app server, already serving
    proc = ctx.Process(target=_import_then_hang, args=(url, inside))
    proc.start()
    try:
        assert inside.wait(120), "the importing process never got inside its transaction"
        # While the import holds the write lock, the other server still answers reads (none of it visible).
        assert other.count(status=None) == 0 and other.version() == 0
    finally:
        proc.kill()
        proc.join(30)
    try:
        (e,) = other.insert([Entry(type="cue", text="the other server keeps writing")], author="b")
        assert e.id == "KB-000001" and other.count(status=None) == 1
        assert [ev["entry_id"] for ev in other.audit_events()] == ["KB-000001"]
    finally:
        other.close()


def test_four_writers_on_two_servers_with_readers_for_60_s_lose_nothing(pg_cluster):
    """Issue 15, item 4: 2 server processes x (2 writers + 2 readers) for 60 s on one database."""
    from bench.pg_soak import check, soak_server

    url = pg_cluster.new_database()
    PostgresStore(url).close()  # the schema exists before the servers start
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    barrier = ctx.Barrier(2)
    servers = [ctx.Process(target=soak_server, args=(url, f"s{n}", 60.0, barrier, queue)) for n in range(2)]
    for p in servers:
        p.start()
    results = [queue.get(timeout=360) for _ in servers]
    for p in servers:
        p.join(60)
    outcome = check(url, results)
    assert sum(len(r["errors"]) for r in results) == 0, [r["errors"][:3] for r in results]
    assert outcome["confirmed_writes"] > 100, outcome  # the load was real
    assert outcome["every_confirmed_write_present_once"], outcome
    assert outcome["entries"] == outcome["confirmed_writes"], outcome
    assert outcome["ids_unique_and_gap_free"] and outcome["audit_chain_intact"], outcome
    assert outcome["audit_events"] == outcome["audit_events_expected"], outcome
    assert outcome["readers_saw_every_entry"], outcome


def test_judgments_numbered_by_hand_before_migration_8_are_continued_not_collided(pg_cluster):
    url = pg_cluster.new_database()
    store = PostgresStore(url)
    try:
        (e,) = store.insert([Entry(type="cue", text="orange medium on day 5")], author="a")
        # What the release before migration 8 wrote: ids chosen as MAX(id) + 1, the identity untouched.
        with store.transaction():
            store._tx().execute(
                'INSERT INTO feedback(id, at, "user", query, entry_id, judgment, fingerprint) '
                "VALUES (1, 't', 'ana', 'q', %s, 'helped', 'm'), (2, 't', 'ana', 'q', %s, 'helped', 'm')",
                (e.id, e.id),
            )
            store.set_meta("schema_version", "7")
    finally:
        store.close()
    store = PostgresStore(url)  # opening applies migration 8
    try:
        row = store.add_feedback("q2", e.id, "helped", user="bo", fingerprint="m", vector=None, at="t2")
        assert row["id"] == 3 and store.feedback_stamp() == (3, 3)
    finally:
        store.close()

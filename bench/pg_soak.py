"""Soak the PostgreSQL store: 2 app-server processes x (2 writers + 2 readers) for a fixed time, then check.

    .venv/bin/python -m bench.pg_soak --seconds 60

Each process opens one PostgresStore (one pool), as an app server does. Writers insert small batches and
edit every tenth entry they wrote; readers fetch 10 random rows with their links and follow the change
log. Afterwards: every write the caller saw confirmed is present exactly once, ids are unique and
gap-free, the audit chain verifies event by event, and each reader saw every entry through the change
log. Store level only (no model). Prints JSON with the load average.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.synchronize
import os
import random
import statistics
import threading
import time

from kb.models import Entry
from kb.storage.base import GENESIS_HASH, event_hash
from kb.storage.postgres import PostgresStore


def soak_server(
    url: str,
    name: str,
    seconds: float,
    all_written: multiprocessing.synchronize.Barrier,
    out: multiprocessing.Queue,
) -> None:
    store = PostgresStore(url)
    stop = time.monotonic() + seconds
    confirmed: list[str] = []
    edits: list[str] = []
    read_ms: list[float] = []
    seen: dict[str, set[int]] = {}
    errors: list[str] = []
    writers_done = threading.Event()

    def writer(tag: str) -> None:
        rng, i = random.Random(tag), 0
        while time.monotonic() < stop:
            batch = [Entry(type="cue", text=f"{tag} note {i + j}") for j in range(rng.randint(1, 5))]
            try:
                stored = store.insert(batch, author=tag)
                confirmed.extend(e.text for e in stored)
                if (i // 5) % 10 == 0:
                    store.update(stored[0].id, {"site": "CAM"}, author=tag, reason="soak edit")
                    edits.append(stored[0].id)
            except Exception as exc:  # counted, not fatal: the check below says what it cost
                errors.append(repr(exc))
            i += len(batch)

    def reader(tag: str) -> None:
        rng, last, mine = random.Random(tag), 0, seen.setdefault(tag, set())
        while not writers_done.is_set():
            version = store.version()
            mine.update(seq for seq, _ in store.changes_since(last))
            last = version
            ids = [f"KB-{rng.randint(1, max(1, version)):06d}" for _ in range(10)]
            t = time.perf_counter()
            store.get_many(ids)
            store.links_for(ids)
            read_ms.append((time.perf_counter() - t) * 1000)
        # One last catch-up once the writers of every server stopped.
        mine.update(seq for seq, _ in store.changes_since(last))

    threads = [threading.Thread(target=writer, args=(f"{name}-w{n}",)) for n in range(2)]
    threads += [threading.Thread(target=reader, args=(f"{name}-r{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads[:2]:
        t.join()
    all_written.wait(timeout=300)
    writers_done.set()
    for t in threads[2:]:
        t.join()
    store.close()
    out.put({"confirmed": confirmed, "edits": edits, "read_ms": read_ms, "seen": {k: sorted(v) for k, v in seen.items()},
             "errors": errors})  # fmt: skip


def check(url: str, results: list[dict]) -> dict:
    """Return what the database holds against what the servers were told."""
    store = PostgresStore(url)
    entries = list(store.iter_entries(status=None))
    events = store.audit_events()
    store.close()
    texts = [e.text for e in entries]
    confirmed = [t for r in results for t in r["confirmed"]]
    edits = sum(len(r["edits"]) for r in results)
    prev, chain_ok = GENESIS_HASH, True
    for n, ev in enumerate(events, start=1):
        body = (ev["at"], ev["actor"], ev["action"], ev["entry_id"], ev["details"], ev["prev_hash"])
        chain_ok &= ev["seq"] == n and ev["prev_hash"] == prev and event_hash(*body) == ev["hash"]
        prev = ev["hash"]
    all_seqs = list(range(1, len(entries) + 1))
    return {
        "entries": len(entries),
        "confirmed_writes": len(confirmed),
        "every_confirmed_write_present_once": all(texts.count(t) == 1 for t in set(confirmed))
        and len(set(texts)) == len(texts),
        "ids_unique_and_gap_free": [e.id for e in entries] == [f"KB-{n:06d}" for n in all_seqs],
        "audit_events": len(events),
        "audit_events_expected": len(entries) + edits,
        "audit_chain_intact": chain_ok,
        "readers_saw_every_entry": all(seen == all_seqs for r in results for seen in r["seen"].values()),
    }


def main() -> None:
    """Run the soak on a throwaway cluster and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    from tests.pg import start_cluster

    out: dict = {"seconds": args.seconds, "load_before": os.getloadavg()}
    cluster = start_cluster()
    try:
        url = cluster.new_database()
        PostgresStore(url).close()  # create the schema before the servers start
        ctx = multiprocessing.get_context("spawn")
        queue: multiprocessing.Queue = ctx.Queue()
        barrier = ctx.Barrier(2)
        procs = [
            ctx.Process(target=soak_server, args=(url, f"s{n}", args.seconds, barrier, queue))
            for n in range(2)
        ]
        for p in procs:
            p.start()
        results = [queue.get(timeout=args.seconds + 300) for _ in procs]
        for p in procs:
            p.join(60)
        read_ms = [x for r in results for x in r["read_ms"]]
        q = statistics.quantiles(read_ms, n=20)
        out |= check(url, results)
        out |= {
            "writes_per_s": round(out["confirmed_writes"] / args.seconds, 1),
            "reads": len(read_ms),
            "read_p50_ms": round(q[9], 2),
            "read_p95_ms": round(q[18], 2),
            "write_errors": sum(len(r["errors"]) for r in results),
        }
    finally:
        cluster.destroy()
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

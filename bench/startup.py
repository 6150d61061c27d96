"""Start-up time of every `tacitkb` command on a 4,560-entry base, and whether it loads the model.

    .venv/bin/python -m bench.startup [--n 4560] [--reps 3] [--no-docs]

The base: one deviation per real FDA recall event (4,560 events, `../shared/data/fda_recalls`), written
through `KnowledgeBase.add_many` with cached vectors (the model encodes only texts not seen before),
under /tmp/tacitkb-bench/startup/base-N and reused. Every run works on a fresh copy of it.

Each command runs as its own process (`python -c` calling the console script's `cli.main.main`, with a
few lines that report at exit whether torch was imported); the time is the wall time of the whole
process, median of --reps runs after one warm-up run (the page cache, and for `clusters` the stored
run it reuses). Read commands run first, then the writing ones, on the copy. A command with required
arguments that cannot be given here runs as `COMMAND --help` (the imports, no work) and says so.
`search --stdin` is timed with 1 and with 51 queries: the difference / 50 is the cost per query once
the model is loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    REPO,
    WORK,
    CachingEmbedder,
    load_fda,
    loadavg,
    machine_info,
    machine_line,
    save_result,
    say,
    table,
    write_section,
)

TARGET_S = 1.5
TARGET_COMMANDS = ("verify", "stats", "clusters", "drift", "show")
QUERY = "tablets failed dissolution specification at the 12 month stability point"

# Runs the CLI as the console script does, then says on stderr whether torch was imported.
WRAPPER = """
import sys
try:
    from cli.main import main
    sys.argv = ["tacitkb", *sys.argv[1:]]
    main()
finally:
    print("STARTUP-PROBE torch=%d" % ("torch" in sys.modules), file=sys.stderr, flush=True)
"""


def base_dir(n: int) -> Path:
    return WORK / "startup" / f"base-{n}"


def build_base(n: int) -> Path:
    """Build (or reuse) a base of up to n FDA recall events, one deviation each."""
    from kb.knowledge_base import KnowledgeBase

    home = base_dir(n)
    if (home / "built.json").is_file():
        return home
    shutil.rmtree(home, ignore_errors=True)
    records = [
        {
            "type": "deviation",
            "process": "FDA",  # so that `export --process FDA` has something to write
            "text": r.reason,
            "ext_id": f"FDA-{r.event_id}",
            "site": r.firm[:40] or None,
            "occurred_at": r.initiated or None,
            "tags": ["fda"],
        }
        for r in load_fda()[:n]
    ]
    t0 = time.perf_counter()
    with KnowledgeBase(home, embedder=CachingEmbedder()) as kb:
        result = kb.add_many([{k: v for k, v in r.items() if v is not None} for r in records], author="bench")
        kb.ensure_index()
        info = {"n": kb.store.count(), "duplicates": len(result.duplicates), "s": time.perf_counter() - t0}
    (home / "built.json").write_text(json.dumps(info))
    return home


def invocations(work: Path) -> list[tuple[str, list[str], str | None]]:
    """Return (command, arguments, stdin) for every command: reads first, then writes."""
    imports = work / "ten.jsonl"
    imports.write_text(
        "".join(
            json.dumps({"type": "cue", "text": f"bench start-up cue {i}: the bag warmed too fast"}) + "\n"
            for i in range(10)
        )
    )
    fifty = "\n".join([QUERY] + [f"{QUERY} {i}" for i in range(50)]) + "\n"
    reads = [
        ("stats", ["stats"], None),
        ("verify", ["verify"], None),
        ("show", ["show", "KB-000001"], None),
        ("clusters", ["clusters"], None),
        ("drift", ["drift"], None),
        ("coverage", ["coverage"], None),
        ("templates", ["templates"], None),
        ("signatures", ["signatures", "KB-000001"], None),
        ("audit", ["audit", "verify"], None),
        ("users", ["users", "list"], None),
        ("workshop", ["workshop", "list"], None),
        ("card", ["card", "--process", "LVV", "--step", "clarification"], None),
        ("failure-pattern", ["failure-pattern", "suggest", "KB-000001"], None),
        ("search", ["search", QUERY], None),
        ("search --stdin, 1 query", ["search", "--stdin"], QUERY + "\n"),
        ("search --stdin, 51 queries", ["search", "--stdin"], fifty),
        ("similar", ["similar", "KB-000001"], None),
        ("report", ["report", "--out", str(work / "report.html")], None),
        ("export", ["export", "--process", "FDA", "--out", str(work / "pkg.zip")], None),
        ("backup", ["backup", "--out", str(work / "backup.db"), "--force"], None),
    ]
    writes = [
        ("init", ["init"], None),
        # {run} is the run's number: each run of a writing command does new work, not a refusal.
        ("add", ["add", "--type", "cue", "--text", "start-up bench {run}: medium orange on day 5"], None),
        ("edit", ["edit", "KB-000002", "--set", "site=BENCH{run}", "--reason", "start-up bench"], None),
        ("link", ["link", "KB-000001", "related", "KB-000002"], None),
        ("retire", ["retire", "KB-00001{run}", "--reason", "start-up bench"], None),
        ("import", ["import", str(imports)], None),
        ("reindex", ["reindex"], None),
    ]
    return reads + writes


def run_once(home: Path, args: list[str], stdin: str | None) -> dict[str, Any]:
    """Run one command in its own process; return wall and CPU seconds, exit code, torch imported."""
    env = {**os.environ, "TACITKB_HOME": str(home), "TACITKB_USER": "bench", "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    probe = [line for line in done.stderr.splitlines() if line.startswith("STARTUP-PROBE")]
    error = [line for line in done.stderr.splitlines() if line.startswith(("error:", "Error:", "Usage:"))]
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "code": done.returncode,
        "torch": bool(probe) and probe[-1].endswith("=1"),
        "error": error[0]
        if error
        else (done.stderr.strip().splitlines() or [""])[-1]
        if done.returncode
        else "",
    }


def run(n: int = 4560, reps: int = 3, *, docs: bool = True, only: tuple[str, ...] = ()) -> dict[str, Any]:
    """Time every command's start-up (or only the named rows); print and document the table."""
    from cli.main import cli

    info = machine_info()
    base = build_base(n)
    count = json.loads((base / "built.json").read_text())["n"]
    work = WORK / "startup" / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    home = work / "kb"
    shutil.copytree(base, home, ignore=shutil.ignore_patterns("built.json"))
    plan = invocations(work)
    covered = {name.split()[0] for name, _, _ in plan}
    plan += [(name, [name, "--help"], None) for name in sorted(cli.commands) if name not in covered]
    if only:
        plan = [row for row in plan if row[0] in only]
    results = []
    for name, args, stdin in plan:
        runs = [  # first run: warm-up
            run_once(home, [a.replace("{run}", str(i)) for a in args], stdin) for i in range(reps + 1)
        ][1:]
        wall = statistics.median(r["wall_s"] for r in runs)
        res = {
            "command": name,
            "args": args,
            "wall_s": wall,
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "torch": runs[-1]["torch"],
            "code": runs[-1]["code"],
            "error": runs[-1]["error"],
            "loadavg": loadavg(),
        }
        results.append(res)
        say(
            f"startup: {name}: {wall:.2f} s, torch {res['torch']}, exit {res['code']} (load {res['loadavg']})"
        )
    by_name = {r["command"]: r for r in results}
    one, many = by_name["search --stdin, 1 query"], by_name["search --stdin, 51 queries"]
    per_query_ms = (many["wall_s"] - one["wall_s"]) / 50 * 1000
    info["loadavg_end"] = loadavg()
    rows = []
    for r in results:
        target = r["command"] in TARGET_COMMANDS
        verdict = ("met" if r["wall_s"] < TARGET_S else "NOT met") if target else "-"
        shown = " ".join(a if len(a) < 40 else "..." for a in r["args"])
        rows.append(
            [
                r["command"],
                f"`tacitkb {shown}`" + (f" (exit {r['code']}: {r['error'][:60]})" if r["code"] else ""),
                r["wall_s"],
                r["cpu_s"],
                "yes" if r["torch"] else "no",
                f"< {TARGET_S} s: {verdict}" if target else "-",
                r["loadavg"],
            ]
        )
    main = table(["command", "invocation", "wall s", "CPU s", "loads torch", "target", "load average"], rows)
    print(main)
    print(f"\nsearch --stdin: {per_query_ms:.1f} ms per query after the first")
    result = {
        "machine": info,
        "n": n,
        "entries": count,
        "reps": reps,
        "results": results,
        "stdin_per_query_ms": per_query_ms,
    }
    if docs:
        body = f"""## 2b. Start-up time of every command

Command: `.venv/bin/python -m bench.startup --n {n} --reps {reps}`

{machine_line(info)}

A base of {count:,} deviations (one per real FDA recall event); each command in its own
process, wall time of the whole process (median of {reps} runs after a warm-up run), CPU time (user +
system) beside it because it moves less with the machine's load; the load average is read after each
command's runs. "loads torch": the process imported torch (only commands that encode should).
Commands with arguments this benchmark cannot supply run as `--help` (imports only).

{main}

`search --stdin` (one query per input line, JSON lines out, the model loaded once): **{per_query_ms:.1f} ms
per query** after the first ((51-query run - 1-query run) / 50).
"""
        write_section("startup", body)
    save_result("startup", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4560)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    run(args.n, args.reps, docs=not args.no_docs)


if __name__ == "__main__":
    main()

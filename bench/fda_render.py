"""Render bench/fda_eval.py's results into docs/fda_evaluation.md through the template bench/fda_report.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import machine_line
from bench.fda_data import WAVES

TEMPLATE = Path(__file__).with_name("fda_report.md")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join("" if v is None else str(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def _summary(results: dict[str, Any]) -> str:
    rows = []
    for name, r in results.items():
        cal = r.get("calibration") or {}
        measured = cal.get("measured_per_year", {})
        rows.append(
            [
                name,
                r["n"],
                r["k"],
                len(r.get("families") or []),
                r["largest"],
                f"{r['unclustered'] / max(r['n'], 1):.1%}",
                r.get("ari", ""),
                r.get("nmi", ""),
                r.get("watching", r.get("drift_error", "")),
                len(r.get("signals", [])),
                measured.get("total", ""),
                r.get("nominal_per_year", ""),
                r.get("cluster_s", ""),
                r.get("drift_s", ""),
            ]
        )
    return _table(
        [
            "record",
            "deviations",
            "clusters",
            "families",
            "largest",
            "unclustered",
            "ARI",
            "NMI",
            "drift watches",
            "signals",
            "chance signals / year measured",
            "nominal",
            "cluster s",
            "drift + calibration s",
        ],
        rows,
    )


def _clusters(r: dict[str, Any]) -> str:
    fam = {c: f["id"] for f in r.get("families") or [] for c in f["clusters"]}
    rows = [
        [c["id"], fam.get(c["id"], ""), c["size"], c["label"], c.get("top_category", "")]
        for c in r["clusters"]
    ]
    return _table(["cluster", "family", "size", "label", "largest FDA category (share)"], rows)


def _families(r: dict[str, Any]) -> str:
    rows = [
        [f["id"], ", ".join(f["label"]), f["size"], ", ".join(f["clusters"])] for f in r.get("families") or []
    ]
    return _table(["family", "label", "size", "clusters"], rows) if rows else "(no family level)"


def _signals(r: dict[str, Any]) -> str:
    if "drift_error" in r:
        return f"Drift did not run: {r['drift_error']}"
    waves = list(WAVES)
    rows = [
        [
            s["kind"],
            s["cluster"],
            s["start"],
            s["alarm"] or "",
            s["end"] or "",
            s["n"],
            *(s[w] for w in waves),
            s["p"] if s["p"] is not None else "",
        ]
        for s in r["signals"]
    ]
    return _table(
        [
            "kind",
            "cluster",
            "since",
            "alarm",
            "until",
            "records",
            *(f"{w} records" for w in waves),
            "permutation p",
        ],
        rows,
    )


def _waves(r: dict[str, Any]) -> str:
    lines = []
    for wave, w in (r.get("waves") or {}).items():
        if w["signals"]:
            s = w["signals"][0]
            lines.append(
                f"- **{wave}** (onset {w['onset']}, {w['records']} records name it): signalled by {s['kind']} "
                f"{s['cluster']} since {s['start']} (alarm {s['alarm']}), {s[wave]} of its {s['n']} records "
                f"about the wave, permutation p = {s['p']}."
            )
        else:
            lines.append(
                f"- **{wave}** (onset {w['onset']}, {w['records']} records name it): **not signalled** by a signal "
                f"starting within 6 months of the onset most of whose records are about it."
            )
        if w.get("by_cluster"):
            spread = ", ".join(f"{c} {n}" for c, n in w["by_cluster"].items())
            lines.append(f"  Its records by cluster: {spread}.")
    return "\n".join(lines)


def _calibration(r: dict[str, Any]) -> str:
    cal = r.get("calibration")
    if not cal:
        return ""
    m, nom = cal["measured_per_year"], cal["nominal_per_year"]
    return (
        f"{cal['n_permutations']} permutations, {cal['monitored_years']} monitored years: rising "
        f"{m['rising']} a year measured vs {nom['rising']} nominal; word bursts {m.get('term_burst', 0)} vs "
        f"{nom.get('term_burst')}; site concentration {m['site_concentration']} "
        f"vs {nom['site_concentration']}; emerging {m['emerging']} (a rule, no nominal rate); "
        f"total {m['total']} vs {nom['total']}. Rising signals per permutation: {cal['per_permutation']['rising']}; "
        f"word bursts per permutation: {cal['per_permutation'].get('term_burst', [])}. " + _beyond(r, cal)
    )


def _beyond(r: dict[str, Any], cal: dict[str, Any]) -> str:
    ps = [s["p"] for s in r.get("signals", []) if s["p"] is not None]
    if not ps:
        return ""
    floor = round(1 / (cal["n_permutations"] + 1), 4)
    strong = sum(p <= floor for p in ps)
    return (
        f"Of the {len(ps)} real signals with a permutation p, {strong} are more extreme than every permutation "
        f"(p = {floor}); {sum(p >= 0.5 for p in ps)} have p >= 0.5, i.e. chance produces signals as strong in most "
        "permuted records."
    )


def _verdict(results: dict[str, Any]) -> str:
    lines = []
    for name in ("fda-field", "fda-title"):
        r = results.get(name)
        if not r:
            continue
        cal = (r.get("calibration") or {}).get("measured_per_year", {})
        waves = r.get("waves") or {}
        ok = {
            "ARI >= 0.55": r.get("ari", 0) >= 0.55,
            "NMI >= 0.80": r.get("nmi", 0) >= 0.80,
            "measured chance signals <= 1 a year": cal.get("total", 99) <= 1.0,
            **{f"{w} signalled near onset": bool(v["signals"]) for w, v in waves.items()},
        }
        marks = "; ".join(f"{k}: {'yes' if v else '**no**'}" for k, v in ok.items())
        lines.append(
            f"- {name}: ARI {r.get('ari')}, NMI {r.get('nmi')}, measured {cal.get('total')} a year. {marks}."
        )
    return "\n".join(lines)


def render(results: dict[str, Any], permutations: int) -> str:
    """Return the evaluation document."""
    from bench.common import machine_info

    parts: dict[str, str] = {
        "machine": machine_line(machine_info()),
        "permutations": str(permutations),
        "summary": _summary(results),
        "verdict": _verdict(results),
    }
    for name, r in results.items():
        key = name.replace("-", "_")
        parts[f"{key}_clusters"] = _clusters(r)
        parts[f"{key}_families"] = _families(r)
        parts[f"{key}_signals"] = _signals(r)
        parts[f"{key}_waves"] = _waves(r)
        parts[f"{key}_calibration"] = _calibration(r)
        parts[f"{key}_watching"] = r.get("watching_reason", r.get("drift_error", ""))
    template = TEMPLATE.read_text(encoding="utf-8")

    class Missing(dict):
        def __missing__(self, key: str) -> str:
            return f"(not run: {key})"

    return template.format_map(Missing(parts))

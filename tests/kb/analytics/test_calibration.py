"""Counts or shares decided from the record; calibration with permuted dates; undated records explained."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from kb.analytics.calibration import calibrate, choose_exposure, describe_missing_dates, signal_key
from kb.analytics.drift import DriftRecord, detect_drift
from kb.analytics.quality import drift_report
from kb.models import KBError


def _record(
    monthly_totals: list[int], *, rise: tuple[str, int, int] | None = None, seed: int = 0
) -> list[DriftRecord]:
    """Return records over months 2020-01.. with these totals, spread over 6 clusters and 3 sites."""
    rng = np.random.default_rng(seed)
    out, n = [], 0
    for m, total in enumerate(monthly_totals):
        y, mo = 2020 + m // 12, m % 12 + 1
        extra = rise[2] if rise and m >= rise[1] else 0
        for j in range(total + extra):
            cid = rise[0] if j >= total else f"C-00{rng.integers(1, 7)}"
            out.append(DriftRecord(f"KB-{n:06d}", cid, date(y, mo, 1 + j % 28), f"Site {rng.integers(0, 3)}"))
            n += 1
    return out


def test_a_steady_volume_is_watched_as_counts():
    steady = _record([int(x) for x in np.random.default_rng(1).poisson(40, 48)])
    choice = choose_exposure(steady)
    assert choice.exposure is None and choice.reason.startswith("counts: the total volume is steady")


def test_a_moving_volume_is_watched_as_shares():
    growing = _record([20] * 24 + [60] * 24)
    choice = choose_exposure(growing)
    assert choice.exposure == "total" and "moves more than chance" in choice.reason and choice.p_value < 0.01
    # With counts, the volume step makes clusters "rise"; with shares (the choice) they do not.
    raw = detect_drift(growing, kinds=("rising",))
    shares = detect_drift(growing, kinds=("rising",), exposure=choice.exposure)
    assert {s.cluster_id for s in raw.signals} == {f"C-00{i}" for i in range(1, 7)}
    # Shares leave at most chance signals (the budget is one a year over all clusters).
    assert len(shares.signals) <= 2


def test_calibration_measures_false_alarms_and_ranks_a_real_rise():
    recs = _record([30] * 48, rise=("C-009", 36, 8), seed=2)
    report = detect_drift(recs, exposure="total")
    real = [s for s in report.signals if s.kind == "rising" and s.cluster_id == "C-009"]
    assert real, "the planted rise must signal"
    cal = calibrate(recs, report, 12, seed=3, exposure="total")
    again = calibrate(recs, report, 12, seed=3, exposure="total")
    assert cal.to_dict() == again.to_dict()
    assert cal.n_permutations == 12 and len(cal.per_permutation["rising"]) == 12
    # Nothing drifts once the dates are permuted: the measured rate stays near the nominal budget.
    assert cal.measured_per_year["rising"] <= 2 * cal.nominal_per_year["rising"]
    # The real rise is more extreme than every permutation: p = 1 / (N + 1).
    assert cal.signal_p_values[signal_key(real[0])] == pytest.approx(1 / 13, abs=1e-4)
    assert "12 date permutations" in cal.summary()


def test_undated_records_say_what_is_missing(kb):
    assert describe_missing_dates(5, 5) is None
    assert "occurred_at is set on 3 of 5 deviation entries" in describe_missing_dates(3, 5)
    kb.add_many([{"type": "deviation", "text": f"pump tubing kink number {i}"} for i in range(8)], author="t")
    with pytest.raises(KBError, match=r"occurred_at is set on 0 of 8 .*--map occurred_at="):
        drift_report(kb)
    # A page that still shows the clusters asks for an empty report that says the same.
    empty = drift_report(kb, when_undated="empty")
    assert (
        empty.params["undated"] and empty.signals == [] and "occurred_at is set on 0 of 8" in empty.notes[0]
    )
    with pytest.raises(KBError, match="argument '--period'"):  # argument errors are still errors
        drift_report(kb, period="day", when_undated="empty")


def test_drift_command_says_what_it_watches_and_calibrates(sample_kb_dir, tmp_path):
    import shutil

    from click.testing import CliRunner

    from cli.main import cli

    home = tmp_path / "kb"
    shutil.copytree(sample_kb_dir, home)
    out = CliRunner().invoke(cli, ["--kb", str(home), "drift", "--calibrate", "3"])
    assert out.exit_code == 0, out.output
    first = out.output.splitlines()[0]
    assert first.startswith("watching counts: ") or first.startswith("watching shares: ")
    assert "calibration (3 date permutations):" in out.output and "nominal" in out.output
    assert "against 3 permutations)" in out.output, "each signal says how unusual it is"
    bad = CliRunner().invoke(cli, ["--kb", str(home), "drift", "--calibrate", "0"])
    assert bad.exit_code == 2 and "--calibrate" in bad.output
    md = tmp_path / "r.md"
    out = CliRunner().invoke(cli, ["--kb", str(home), "report", "--out", str(md), "--calibrate", "2"])
    assert out.exit_code == 0 and "calibration (2 date permutations)" in md.read_text()
    assert "Watching " in md.read_text()


def test_outputs_with_many_sites_show_the_top_few(kb):
    from click.testing import CliRunner

    from cli.main import cli
    from kb.formatting import top_values

    assert top_values({"A": 1, "B": 5, "C": 5, "D": 2}, 2) == "B 5, C 5 ... and 2 more"
    texts = ["Pump tubing kinked and flow stopped", "Filter clogged, pressure rose above the limit"]
    kb.add_many(
        [
            {
                "type": "deviation",
                "text": f"{texts[i % 2]} (case {i})",
                "site": f"Site {i:02d}",
                "occurred_at": f"2024-{i % 12 + 1:02d}-03",
            }
            for i in range(24)
        ],
        author="t",
    )
    out = CliRunner().invoke(cli, ["--kb", str(kb.home), "clusters"])
    assert out.exit_code == 0, out.output
    lines = [ln for ln in out.output.splitlines() if ln.strip().startswith("C-")]
    assert lines and all("... and " in ln and len(ln) < 200 for ln in lines)
    # The name or label comes right after the id, before the numbers and the sites.
    assert all(ln.split("|")[0].strip().split("  ", 1)[1] for ln in lines)


def test_report_timeline_shows_top_sites_and_other_without_warnings(tmp_path):
    import warnings

    from kb.analytics.drift import detect_drift
    from kb.analytics.report import TOP_SITES, _timeline_png

    recs = [
        DriftRecord(f"KB-{i:06d}", "C-001", date(2024, 1 + i % 12, 1 + i % 27), f"Site {i % 40:02d}")
        for i in range(400)
    ]
    report = detect_drift(recs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = _timeline_png(report, "C-001", "C-001: pump")
    assert png.startswith(b"\x89PNG") and not [str(w.message) for w in caught]
    assert TOP_SITES < 40  # 40 sites: TOP_SITES lines plus one "other" line

"""stats on a record with many sites: the most frequent few and a count, not one unreadable line."""

from __future__ import annotations

from click.testing import CliRunner

from cli.main import cli


def test_stats_shows_the_top_sites_and_how_many_more(kb):
    kb.add_many(
        [{"type": "cue", "text": f"Station {i} noticed a faint haze after complexation", "site": f"S{i:03d}"}
         for i in range(12)] + [{"type": "cue", "text": "A second haze at S000", "site": "S000"}],
        author="ana",
    )  # fmt: skip
    result = CliRunner().invoke(cli, ["--kb", str(kb.home), "stats"])
    assert result.exit_code == 0, result.output
    site_line = next(line for line in result.output.splitlines() if line.strip().startswith("site:"))
    assert site_line.strip().startswith("site: S000 2, S001 1")
    assert site_line.endswith("... and 7 more") and len(site_line) < 120

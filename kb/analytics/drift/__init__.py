"""Drift signals over deviation clusters in time: rising, emerging, site concentration, repeat after fix.

Pure functions over plain records (entry id, cluster id, date, site); no model, no entry store.
Method and false-alarm calibration: docs/drift.md.

- Periods are ISO weeks ("2024-W05") or calendar months ("2024-03"). A period with no record of any
  cluster at all is a gap: shown as None, never read as zero, skipped by every detector.
- rising: Poisson CUSUM (Lucas 1985) per cluster against its own baseline (the first part of the
  history), with h set by a Markov-chain ARL computation (Brook and Evans 1972) so that, summed over
  all watched clusters, chance signals stay within the yearly false-alarm budget.
- emerging: a cluster whose members all fall in the last few periods.
- site_concentration: exact one-sided test of a site's share of a cluster: binomial against the site's
  share of exposure (batches), or Fisher's exact test against the site's share of all other
  deviations; Holm-corrected to the same yearly budget.
- repeat_after_fix: members dated after a linked fix (a repeat deviation in the GMP sense), reported when
  at least `repeat_min` follow the fix and the rate after it is no lower than before (the fix did not hold).
"""

from kb.analytics.drift.cusum import (
    _resolution,
    calibrate_h,
    cusum_arl,
    cusum_reference,
    family_arl,
    plausible_means,
)
from kb.analytics.drift.detectors import _above, detect_drift, shuffle_false_alarm_rate
from kb.analytics.drift.model import (
    DEFAULT_BUDGET_SPLIT,
    HELD_RATE_RATIO,
    PERIODS_PER_YEAR,
    SIGNAL_KINDS,
    DriftRecord,
    DriftReport,
    Fix,
    PeriodCounts,
    Signal,
    _single_thread,
)
from kb.analytics.drift.periods import _coerce, count_by_period, period_of, period_range, to_date

__all__ = [
    "DEFAULT_BUDGET_SPLIT",
    "HELD_RATE_RATIO",
    "PERIODS_PER_YEAR",
    "SIGNAL_KINDS",
    "DriftRecord",
    "DriftReport",
    "Fix",
    "PeriodCounts",
    "Signal",
    "_above",
    "_coerce",
    "_resolution",
    "_single_thread",
    "calibrate_h",
    "count_by_period",
    "cusum_arl",
    "cusum_reference",
    "detect_drift",
    "family_arl",
    "period_of",
    "period_range",
    "plausible_means",
    "shuffle_false_alarm_rate",
    "to_date",
]

"""Regional service-gap reports: metrics per district, gaps in plain words, exports.

refresh_rollups(session, alliance, ["2026-01", "2026-02"])   # fold raw events once
facts = load_facts(session, alliance, period_months("2026"))  # roll-ups where built
report = build_report(facts, "2026", gap_share=0.6, targets={"fill_rate": 0.8})
"""

from federation.reports.facts import Facts, PeriodError, period_months, previous_period
from federation.reports.report import Report, build_report
from federation.reports.rollups import load_facts, refresh_rollups

__all__ = [
    "Facts",
    "PeriodError",
    "Report",
    "build_report",
    "load_facts",
    "period_months",
    "previous_period",
    "refresh_rollups",
]

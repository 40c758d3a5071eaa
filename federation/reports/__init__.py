"""Regional service-gap reports: metrics per district, gaps in plain words, exports.

facts = load_facts(session, alliance, start, end)       # or hand-built, or from roll-ups
report = build_report(facts, "2026", gap_share=0.6, targets={"fill_rate": 0.8})
"""

from federation.reports.facts import Facts, PeriodError, period_months, previous_period
from federation.reports.report import Report, build_report
from federation.reports.source import load_facts

__all__ = [
    "Facts",
    "PeriodError",
    "Report",
    "build_report",
    "load_facts",
    "period_months",
    "previous_period",
]

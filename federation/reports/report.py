"""A service-gap report for one period: metric tables, gaps in plain words, trends, by type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from federation.reports import facts as f
from federation.reports import metrics as m
from federation.reports.facts import Facts, period_months, previous_period
from federation.reports.gaps import DEFAULT_GAP_SHARE, Gap, detect_gaps, largest_gaps
from federation.reports.metrics import Scope
from federation.reports.tables import Column, Table

LIBRARY_TYPES = ("university", "public", "research", "school", "community")
SIDE_BY_SIDE = ("university", "public")
CLASSES_SHOWN = 3  # classes per district in the coverage table

_DISTRICT = [
    Column("district", "District", "区县", "code"),
    Column("name", "Name", "名称", "text"),
]


@dataclass
class Report:
    """Everything the report page, its exports and the JSON API show."""

    period: str
    months: list[str]
    previous: str
    district: str | None
    library_type: str | None
    has_data: bool
    simulated: bool
    values: dict[str, dict[str, float | None]]  # metric id -> district -> value
    medians: dict[str, float | None]
    gaps: list[Gap]
    top: list[Gap]
    tables: list[Table] = field(default_factory=list)
    districts: list[f.District] = field(default_factory=list)
    previous_has_data: bool = False

    def table(self, table_id: str) -> Table:
        """Return one table by id (KeyError if none)."""
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(table_id)

    def as_json(self) -> dict[str, Any]:
        """Return the numbers of the report as JSON-able data."""
        return {
            "period": self.period,
            "months": self.months,
            "previous_period": self.previous,
            "filters": {"district": self.district, "library_type": self.library_type},
            "has_data": self.has_data,
            "simulated": self.simulated,
            "medians": self.medians,
            "largest_gaps": [gap_json(g) for g in self.top],
            "gaps": [gap_json(g) for g in self.gaps],
            "tables": [t.as_json() for t in self.tables],
        }


def gap_json(gap: Gap) -> dict[str, Any]:
    """Return one gap as JSON-able data."""
    return {
        "district": gap.district,
        "metric": gap.metric,
        "value": gap.value,
        "reference": gap.reference,
        "basis": gap.basis,
        "ratio": round(gap.ratio, 4),
        "text": {"en": gap.text_en, "zh": gap.text_zh},
    }


METRICS = {
    "members": m.members,
    "titles_held": m.titles_held,
    "titles_per_1000": m.titles_per_1000,
    "held_locally_share": m.held_locally_share,
    "requests_per_1000": m.requests_per_1000,
    "fill_rate": m.fill_rate,
    "turnaround_median": m.turnaround_median,
    "turnaround_p90": m.turnaround_p90,
    "unfilled": m.unfilled,
    "zero_result_searches": m.zero_result_searches,
    "zero_result_share": m.zero_result_share,
    "lent": m.lent,
    "borrowed": m.borrowed,
    "lending_ratio": m.lending_ratio,
    "nearest_holder_km": m.nearest_holder_km,
    "university_to_public": m.university_to_public,
}


def build_report(
    facts: Facts,
    period: str,
    district: str | None = None,
    library_type: str | None = None,
    gap_share: float = DEFAULT_GAP_SHARE,
    targets: Mapping[str, float] | None = None,
) -> Report:
    """Build the report of ``period`` ("2026", "2026-Q2", "2026-03"), optionally filtered."""
    if district is not None:
        facts.district(district)  # KeyError: the caller says which districts exist
    months = period_months(period)
    scope = Scope(facts, months, library_type)
    values = {key: compute(scope) for key, compute in METRICS.items()}
    gaps = [g for g in detect_gaps(scope, gap_share, targets) if district in (None, g.district)]
    report = Report(
        period=period,
        months=months,
        previous=previous_period(period),
        district=district,
        library_type=library_type,
        has_data=any(scope.total(k, d) for k in f.MEASURES for d in scope.districts),
        simulated=facts.simulated,
        values=values,
        medians={key: m.alliance_median(v.values()) for key, v in values.items()},
        gaps=gaps,
        top=largest_gaps(gaps),
        districts=[d for d in facts.districts if district in (None, d.code)],
    )
    report.tables = _tables(report, scope)
    return report


def _rows(report: Report, keys: list[str]) -> list[dict[str, Any]]:
    return [
        {"district": d.code, "name": d.name_zh, "name_en": d.name_en}
        | {k: report.values[k][d.code] for k in keys}
        for d in report.districts
    ]


def _metric_table(report: Report, table_id: str, en: str, zh: str, cols: list[Column]) -> Table:
    return Table(table_id, en, zh, _DISTRICT + cols, _rows(report, [c.key for c in cols]))


def _tables(report: Report, scope: Scope) -> list[Table]:
    return [
        _gaps_table(report),
        _metric_table(report, "collections", "Libraries and collections", "成员馆与馆藏", [
            Column("members", "Member libraries", "成员馆"),
            Column("titles_held", "Unique titles held", "馆藏种数"),
            Column("titles_per_1000", "Titles per 1,000 residents", "每千人馆藏种数", "float"),
        ]),
        _metric_table(report, "ill", "Interlibrary loan service", "馆际互借服务", [
            Column("requests_per_1000", "ILL requests per 1,000 residents", "每千人请求", "float"),
            Column("fill_rate", "Fill rate", "满足率", "share"),
            Column("turnaround_median", "Median turnaround (h)", "周转中位数（小时）", "float"),
            Column("turnaround_p90", "90th percentile turnaround (h)", "周转P90（小时）", "float"),
            Column("held_locally_share", "Requested titles held in district", "本区有藏比例",
                   "share"),
            Column("nearest_holder_km", "Nearest holder, median km", "最近收藏馆距离中位数（公里）",
                   "float"),
        ]),
        _metric_table(report, "unmet", "Unmet demand", "未满足的需求", [
            Column("unfilled", "Requests not filled", "未满足请求"),
            Column("zero_result_searches", "Searches finding nothing", "无结果检索"),
            Column("zero_result_share", "Share of searches finding nothing", "无结果检索比例",
                   "share"),
        ]),
        _metric_table(report, "lending", "Lending and borrowing", "借出与借入", [
            Column("lent", "Items lent", "借出"),
            Column("borrowed", "Items borrowed", "借入"),
            Column("lending_ratio", "Lent per borrowed", "借出/借入", "float"),
            Column("university_to_public", "University loans to public libraries",
                   "高校馆向公共馆借出"),
        ]),
        _classes_table(report, scope),
        _types_table(report, scope),
        _trend_table(report, scope),
        _feedback_table(scope, report.district),
    ]  # fmt: skip


def _gaps_table(report: Report) -> Table:
    cols = _DISTRICT[:1] + [
        Column("metric", "Metric", "指标", "code"),
        Column("value", "Value", "数值", "float"),
        Column("reference", "Median or target", "中位数或目标", "float"),
        Column("basis", "Compared with", "比较基准", "code"),
        Column("ratio", "Ratio", "比值", "share"),
        Column("text_en", "In words (English)", "说明（英文）", "text"),
        Column("text_zh", "In words (Chinese)", "说明", "text"),
    ]
    rows = [gap_json(g) | {"text_en": g.text_en, "text_zh": g.text_zh} for g in report.gaps]
    for row in rows:
        row.pop("text")
    return Table("gaps", "Gaps", "服务差距", cols, rows)


def _classes_table(report: Report, scope: Scope) -> Table:
    cols = _DISTRICT + [
        Column("clc", "CLC class", "中图法类目", "code"),
        Column("demand", "Searches and requests", "检索与请求"),
        Column("demand_share", "Share of demand", "需求占比", "share"),
        Column("holding_share", "Share of alliance titles held", "占联盟该类馆藏比例", "share"),
    ]
    rows = []
    for d in report.districts:
        for gap in m.class_coverage(scope, d.code)[:CLASSES_SHOWN]:
            rows.append(
                {"district": d.code, "name": d.name_zh, "name_en": d.name_en, "clc": gap.clc,
                 "demand": gap.demand, "demand_share": gap.demand_share,
                 "holding_share": gap.holding_share}
            )  # fmt: skip
    return Table("classes", "Subject coverage against demand", "学科覆盖与需求", cols, rows)


_TYPE_NAMES = {"university": ("University", "高校馆"), "public": ("Public", "公共馆"),
               "research": ("Research", "科研馆"), "school": ("School", "中小学馆"),
               "community": ("Community", "社区馆")}  # fmt: skip
_TYPE_FIGURES = (
    ("members", "member libraries", "成员馆"),
    ("titles_held", "titles held", "馆藏种数"),
    ("requested", "ILL requests", "借入请求"),
    ("filled", "filled", "已满足"),
    ("lent", "items lent", "借出"),
)


def _types_table(report: Report, scope: Scope) -> Table:
    """University and public libraries side by side: one row per district, a block per type."""
    types = [report.library_type] if report.library_type else list(SIDE_BY_SIDE)
    cols = list(_DISTRICT)
    rows = [{"district": d.code, "name": d.name_zh, "name_en": d.name_en} for d in report.districts]
    for type_ in types:
        en_type, zh_type = _TYPE_NAMES[type_]
        cols += [Column(f"{type_}_{key}", f"{en_type}: {en}", f"{zh_type}{zh}")
                 for key, en, zh in _TYPE_FIGURES]  # fmt: skip
        sub = Scope(scope.facts, scope.months, type_)
        members, titles = m.members(sub), m.titles_held(sub)
        for row in rows:
            d = row["district"]
            row |= {f"{type_}_members": members[d], f"{type_}_titles_held": titles[d],
                    f"{type_}_requested": sub.total(f.REQUESTED, d),
                    f"{type_}_filled": sub.total(f.FILLED, d),
                    f"{type_}_lent": sub.total(f.LENT, d)}  # fmt: skip
    return Table("types", "University and public libraries", "高校馆与公共馆", cols, rows)


def _trend_table(report: Report, scope: Scope) -> Table:
    cols = [
        Column("month", "Month", "月份", "code"),
        *_DISTRICT,
        Column("requested", "ILL requests", "馆际互借请求"),
        Column("fill_rate", "Fill rate", "满足率", "share"),
        Column("zero_result_searches", "Searches finding nothing", "无结果检索"),
    ]
    rows = []
    for month in scope.months:
        sub = Scope(scope.facts, [month], scope.library_type)
        rates = m.fill_rate(sub)
        for d in report.districts:
            rows.append(
                {"month": month, "district": d.code, "name": d.name_zh, "name_en": d.name_en,
                 "requested": sub.total(f.REQUESTED, d.code), "fill_rate": rates[d.code],
                 "zero_result_searches": sub.total(f.ZERO_SEARCHES, d.code)}
            )  # fmt: skip
    return Table("trend", "Month by month", "逐月趋势", cols, rows)


COMPARED = (
    ("titles_per_1000", "Titles per 1,000 residents", "每千人馆藏种数", "float"),
    ("requests_per_1000", "ILL requests per 1,000 residents", "每千人请求", "float"),
    ("fill_rate", "Fill rate", "满足率", "share"),
    ("held_locally_share", "Requested titles held in district", "本区有藏比例", "share"),
    ("zero_result_share", "Share of searches finding nothing", "无结果检索比例", "share"),
)


def add_comparison(report: Report, previous: Report) -> None:
    """Add the table comparing each district with the period before (is the gap narrowing?)."""
    cols = _DISTRICT + [Column("metric", "Metric", "指标", "code")]
    cols += [
        Column("metric_en", "Metric (English)", "指标（英文）", "text"),
        Column("metric_zh", "Metric (Chinese)", "指标名称", "text"),
        Column("previous", previous.period, previous.period, "float"),
        Column("now", report.period, report.period, "float"),
        Column("change", "Change", "变化", "float"),
    ]
    rows = []
    for d in report.districts:
        for key, en, zh, kind in COMPARED:
            before, now = previous.values[key][d.code], report.values[key][d.code]
            change = now - before if None not in (now, before) else None
            rows.append(
                {"district": d.code, "name": d.name_zh, "name_en": d.name_en, "metric": key,
                 "metric_en": en, "metric_zh": zh, "kind": kind, "previous": before, "now": now,
                 "change": change}
            )  # fmt: skip
    report.previous_has_data = previous.has_data
    report.tables.append(
        Table("change", "Compared with the period before", "与上一期比较", cols, rows)
    )


def _feedback_table(scope: Scope, district: str | None) -> Table:
    feedback = scope.facts.feedback
    cols = [Column("category", "Category", "类别", "code"), Column("count", "Notes", "条数")]
    if district is None:
        counts = feedback.by_category
    else:  # per-district counts carry no category: say how many came from the district
        counts = {"*": feedback.by_district.get(district, 0)}
    rows = [{"category": k, "count": n} for k, n in sorted(counts.items())]
    return Table("feedback", "Reader feedback", "读者反馈", cols, rows)

"""Gap detection: districts whose metric falls short of the alliance median or of a target.

A district is flagged where a metric is below ``gap_share`` of the alliance median (above
median / gap_share for metrics where less is better: turnaround, distance, failed searches) or
short of a target in the alliance file. Each gap is said in plain words, in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from federation.reports import metrics as m
from federation.reports.metrics import Scope, Values

DEFAULT_GAP_SHARE = 0.6


@dataclass(frozen=True)
class GapMetric:
    """A metric gap detection looks at: how to compute it, which way is better, how to say it."""

    id: str
    compute: Callable[[Scope], Values]
    higher_is_better: bool
    en: str  # "{v}" is the formatted value
    zh: str
    percent: bool = False  # a share shown as a percentage


GAP_METRICS: tuple[GapMetric, ...] = (
    GapMetric("members", m.members, True, "{v} member libraries", "{v}个成员馆"),
    GapMetric(
        "titles_per_1000", m.titles_per_1000, True,
        "{v} titles per 1,000 residents", "每千人{v}种馆藏",
    ),
    GapMetric(
        "held_locally_share", m.held_locally_share, True,
        "{v} of the titles its libraries request are held in the district",
        "所借书目中{v}在本区有馆藏", percent=True,
    ),
    GapMetric(
        "requests_per_1000", m.requests_per_1000, True,
        "{v} ILL requests per 1,000 residents", "每千人馆际互借请求{v}次",
    ),
    GapMetric("fill_rate", m.fill_rate, True, "{v} of ILL requests filled", "馆际互借满足率{v}",
              percent=True),
    GapMetric(
        "turnaround_median", m.turnaround_median, False,
        "median ILL turnaround {v} hours", "馆际互借周转时间中位数{v}小时",
    ),
    GapMetric(
        "nearest_holder_km", m.nearest_holder_km, False,
        "nearest holder of requested titles {v} km away (median)",
        "所借书目最近收藏馆距离中位数{v}公里",
    ),
    GapMetric(
        "zero_result_share", m.zero_result_share, False,
        "{v} of searches find nothing", "{v}的检索无结果", percent=True,
    ),
)  # fmt: skip
GAP_METRIC_IDS = tuple(g.id for g in GAP_METRICS)


@dataclass(frozen=True)
class Gap:
    """One district falling short on one metric."""

    district: str
    metric: str
    value: float
    reference: float  # the alliance median or the target
    basis: str  # "median" | "target"
    ratio: float  # value / reference, inverted for lower-is-better: below 1 is worse
    text_en: str
    text_zh: str


def fmt(value: float | None, percent: bool = False) -> str:
    """Format a figure for a sentence: percentages whole, numbers up to 100 with one decimal,
    and figures below 1 with two significant digits (0.035 requests per 1,000 residents must
    not read as 0.0)."""
    if value is None:
        return "–"
    if percent:
        return f"{value * 100:.0f}%"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) < 1:
        return f"{value:.2g}"
    return f"{value:.1f}"


def _ratio(metric: GapMetric, value: float, reference: float) -> float:
    if metric.higher_is_better:
        return value / reference if reference else 1.0
    return reference / value if value else 1.0


def _check(
    metric: GapMetric, value: float | None, median: float | None, share: float, target: float | None
) -> tuple[float, str, float] | None:
    """Return (reference, basis, ratio) if the value falls short, else None."""
    if value is None:
        return None
    found = []
    if target is not None and _ratio(metric, value, target) < 1:
        found.append((target, "target", _ratio(metric, value, target)))
    if median and _ratio(metric, value, median) < share:
        found.append((median, "median", _ratio(metric, value, median)))
    return min(found, key=lambda x: x[2]) if found else None


def detect_gaps(
    scope: Scope, gap_share: float = DEFAULT_GAP_SHARE, targets: Mapping[str, float] | None = None
) -> list[Gap]:
    """Return every gap of every district, the largest (lowest ratio) first."""
    targets = targets or {}
    gaps = []
    for metric in GAP_METRICS:
        values = metric.compute(scope)
        median = m.alliance_median(values.values())
        for district, value in values.items():
            hit = _check(metric, value, median, gap_share, targets.get(metric.id))
            if hit:
                gaps.append(_gap(scope, metric, district, value, *hit))
    return sorted(gaps, key=lambda g: (g.ratio, GAP_METRIC_IDS.index(g.metric), g.district))


def largest_gaps(gaps: list[Gap], n: int = 3) -> list[Gap]:
    """Return the ``n`` largest gaps, one per district."""
    seen, out = set(), []
    for gap in gaps:
        if gap.district not in seen:
            seen.add(gap.district)
            out.append(gap)
    return out[:n]


def _gap(
    scope: Scope,
    metric: GapMetric,
    district: str,
    value: float,
    ref: float,
    basis: str,
    ratio: float,
) -> Gap:
    place = scope.facts.district(district)
    en, zh = _sentence(metric, place.population, value, ref, basis, ratio)
    worst = m.worst_class(scope, district)
    if worst:
        en += (
            f"; {fmt(worst.demand_share, True)} of its searches and requests are in class "
            f"{worst.clc}, where it holds {fmt(worst.holding_share, True)} of the alliance's titles"
        )
        zh += (
            f"；其检索和借阅需求的{fmt(worst.demand_share, True)}属于{worst.clc}类，"
            f"而该类馆藏仅占联盟的{fmt(worst.holding_share, True)}"
        )
    return Gap(
        district, metric.id, value, ref, basis, ratio,
        f"{place.name_en}: {en}.", f"{place.name_zh}：{zh}。",
    )  # fmt: skip


def _sentence(
    metric: GapMetric, population: int, value: float, ref: float, basis: str, ratio: float
) -> tuple[str, str]:
    if metric.id == "members" and value == 0:
        people = f"{population:,}"
        return (f"no member library for {people} residents", f"{people}位居民没有成员馆")
    v = fmt(value, metric.percent)
    en, zh = metric.en.format(v=v), metric.zh.format(v=v)
    r = fmt(ref, metric.percent)
    if basis == "target":
        word_en = "below" if metric.higher_is_better else "above"
        word_zh = "低于" if metric.higher_is_better else "高于"
        return f"{en}, {word_en} the target of {r}", f"{zh}，{word_zh}目标值{r}"
    if not metric.higher_is_better and ref:  # more is worse: say how many times the median
        times = f"{value / ref:.1f}"
        return (
            f"{en}, {times} times the alliance median ({r})",
            f"{zh}，为联盟中位数（{r}）的{times}倍",
        )
    share = fmt(value / ref if ref else None, True)
    return (
        f"{en}, {share} of the alliance median ({r})",
        f"{zh}，为联盟中位数（{r}）的{share}",
    )

"""Plain-text reports of harvest runs: one line per run, a status table per member."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from harvesters.runs import RunSummary


def format_summary(summary: RunSummary) -> str:
    """Say in one line what a run did."""
    what = {
        "full": "full harvest",
        "incremental": "incremental harvest",
        "reconcile": "reconciliation",
        "record": "record refresh",
    }.get(summary.kind, summary.kind)
    head = f"{summary.member_code}: {what}"
    if summary.status == "skipped":
        return f"{head} skipped: {summary.error}"
    took = f" in {summary.duration:.1f} s" if summary.duration is not None else ""
    counts = (
        f"{summary.new} new, {summary.updated} updated, {summary.unchanged} unchanged, "
        f"{summary.deleted} deleted, {summary.rejected} rejected, {summary.pages} pages"
    )
    if summary.illegal_chars:
        counts += f", {summary.illegal_chars} illegal characters removed"
    if summary.ok:
        note = f" ({summary.error})" if summary.error else ""
        return f"{head} completed{took}: {counts}{note}"
    return f"{head} {summary.status.upper()}{took} ({counts}): {summary.error}"


_STATUS_COLUMNS = (
    "member",
    "last run",
    "status",
    "started",
    "took",
    "new",
    "updated",
    "deleted",
    "rejected",
    "pages",
    "records active/deleted/rejected",
)


def format_status(statuses: list, time_zone: str = "UTC") -> list[str]:
    """Render ``harvest_status`` as a table: one line per member, its error underneath."""
    tz = ZoneInfo(time_zone)
    rows, errors = [list(_STATUS_COLUMNS)], {}
    for status in statuses:
        rows.append(_status_row(status, tz))
        if status.last_run is not None and status.last_run.error:
            errors[len(rows) - 1] = status.last_run.error
    widths = [max(len(r[i]) for r in rows) for i in range(len(_STATUS_COLUMNS))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if index in errors:
            lines.append(f"    error: {errors[index]}")
    lines.append(f"Times are in {time_zone}.")
    return lines


def _status_row(status, tz: ZoneInfo) -> list[str]:
    counts = status.records
    records = "/".join(str(counts.get(k, 0)) for k in ("active", "deleted", "rejected"))
    run = status.last_run
    if run is None:
        return [status.member_code, "never harvested", *[""] * 8, records]
    started = _aware(run.started_at).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    took = f"{run.duration:.1f} s" if run.duration is not None else "-"
    numbers = [str(n) for n in (run.new, run.updated, run.deleted, run.rejected, run.pages)]
    return [status.member_code, run.kind, run.status, started, took, *numbers, records]


def _aware(value: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; storage is always UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

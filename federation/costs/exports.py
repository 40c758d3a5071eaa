"""A period's settlement as tables: every line with its basis and events, and each party's net."""

from __future__ import annotations

from decimal import Decimal

from federation.costs.formula import Settlement
from federation.stats.export import Table

MAX_REFS = 200  # per line in an export; the page and the database keep them all

LINE_HEADERS = ("line", "kind", "payer", "payee", "quantity", "amount", "basis", "events")


def _refs(refs: tuple[str, ...]) -> str:
    shown = " ".join(refs[:MAX_REFS])
    return shown + (f" … (+{len(refs) - MAX_REFS})" if len(refs) > MAX_REFS else "")


def statement_tables(
    settlement: Settlement, status: str, member: str | None = None, simulated: bool = False
) -> list[Table]:
    """Return the statement (all lines, or one member's with signed amounts) and the nets."""
    notes = [f"formula in force: {settlement.formula}", f"period {settlement.period}: {status}"]
    if simulated:
        notes.append("includes SIMULATED activity: not a real settlement")
    if member:
        rows = [
            (
                n,
                line.kind,
                line.payer,
                line.payee,
                line.quantity,
                signed,
                line.basis,
                _refs(line.refs),
            )
            for n, (line, signed) in enumerate(settlement.for_party(member), start=1)
        ]
        total = sum((r[5] for r in rows), Decimal("0.00"))
        rows.append(("", "total", "", "", "", total, "negative: the member pays", ""))
        title = f"Statement {settlement.period} — {member}"
    else:
        rows = [
            (n, x.kind, x.payer, x.payee, x.quantity, x.amount, x.basis, _refs(x.refs))
            for n, x in enumerate(settlement.lines, start=1)
        ]
        title = f"Settlement {settlement.period}"
    nets = settlement.net()
    net_rows = [(party, amount) for party, amount in sorted(nets.items())]
    net_rows.append(("balance", sum(nets.values(), Decimal("0.00"))))
    return [
        Table(title, LINE_HEADERS, rows, notes),
        Table(
            f"Net per party {settlement.period}",
            ("party", "net (received − paid)"),
            net_rows,
            notes[:1],
        ),
    ]

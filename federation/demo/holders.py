"""Decide which members hold which editions: academic books at universities, popular at publics.

Every real seed record is held by at least one member that speaks its format (that member
serves the record nearly as it was catalogued); the generated editions are then drawn per
member, weighted by popularity and by how well the book fits the kind of library, so popular
editions end up on several members' shelves.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from federation.demo.model import Manifestation

# How likely a kind of library is to buy a book for a given audience.
AFFINITY: dict[str, dict[str, float]] = {
    "university": {"academic": 1.0, "general": 0.5, "popular": 0.25},
    "research": {"academic": 1.0, "general": 0.4, "popular": 0.08},
    "public": {"academic": 0.2, "general": 0.7, "popular": 1.0},
    "school": {"academic": 0.1, "general": 0.6, "popular": 1.0},
    "community": {"academic": 0.05, "general": 0.5, "popular": 1.0},
}
# How much of a Chinese library's buying is in languages other than Chinese.
FOREIGN_FACTOR = {
    "university": 0.8,
    "research": 1.0,
    "public": 0.12,
    "school": 0.1,
    "community": 0.05,
}

Holding = tuple[Manifestation, bool]  # (edition, served as the real seed record)


def weighted_sample(rng: random.Random, items: Sequence, weights: Sequence[float], k: int) -> list:
    """Draw ``k`` distinct items, each with probability growing with its weight."""
    keyed = [
        (rng.random() ** (1.0 / w), i) for i, w in enumerate(weights) if w > 0
    ]  # Efraimidis-Spirakis: the k largest keys form a weighted sample without replacement
    keyed.sort(reverse=True)
    return [items[i] for _key, i in keyed[:k]]


def quotas(weights: dict[str, float], total: int) -> dict[str, int]:
    """Split ``total`` records between members in proportion to their weights."""
    whole = sum(weights.values())
    exact = {code: total * w / whole for code, w in weights.items()}
    shares = {code: int(x) for code, x in exact.items()}
    by_remainder = sorted(exact, key=lambda c: (shares[c] - exact[c], c))
    for code in by_remainder[: total - sum(shares.values())]:
        shares[code] += 1
    return shares


def assign(
    members: Sequence,
    seeds: list[Manifestation],
    pool: list[Manifestation],
    total: int,
    rng: random.Random,
) -> dict[str, list[Holding]]:
    """Return, per member code, the editions it holds (seeds first).

    Every seed is held at least once, so ``total`` is met exactly only when it is larger than
    the seed records (a few hundred); a small corpus gives each seed a single holder.
    """
    held: dict[str, list[Holding]] = {p.code: [] for p in members}
    several = total >= 8 * len(seeds)
    for m in seeds:
        for number, profile in enumerate(_seed_holders(m, members, rng, several)):
            verbatim = number == 0 and profile.native_format == m.raw_format
            held[profile.code].append((m, verbatim))
    share = quotas({p.code: p.size_weight for p in members}, total)
    for profile in members:
        wanted = max(0, share[profile.code] - len(held[profile.code]))
        weights = [_fit(profile.kind, m) for m in pool]
        held[profile.code] += [(m, False) for m in weighted_sample(rng, pool, weights, wanted)]
    return held


def _fit(kind: str, m: Manifestation) -> float:
    weight = m.popularity * AFFINITY[kind][m.audience]
    return weight if m.lang == "chi" else weight * FOREIGN_FACTOR[kind]


def _seed_holders(m: Manifestation, members: Sequence, rng: random.Random, several: bool) -> list:
    """Pick the members holding a seed: first those that speak its format and buy such books."""
    native = [p for p in members if p.native_format == m.raw_format]
    others = [p for p in members if p.native_format != m.raw_format]
    # The seeds are academic books: a research collection holds them before a public library.
    academic = [p for p in native if AFFINITY[p.kind]["academic"] >= 0.5]
    first_pool = academic or native or others
    count = min(len(first_pool), rng.choice((1, 1, 2, 3)) if several else 1)
    weights = [AFFINITY[p.kind]["academic"] for p in first_pool]
    chosen = weighted_sample(rng, first_pool, weights, count)
    rest = [p for p in members if p not in chosen]
    if several and rest and rng.random() < 0.3:
        chosen += weighted_sample(rng, rest, [AFFINITY[p.kind]["academic"] ** 2 for p in rest], 1)
    return chosen

"""ILL test fixtures: see tests/support/ill_fixtures.py."""

from tests.support.ill_fixtures import alliance, clock, cluster, ctx, ill_db  # noqa: F401

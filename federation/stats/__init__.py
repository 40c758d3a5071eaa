"""Usage statistics: monthly roll-ups of usage events, checks, COUNTER-shaped reports."""

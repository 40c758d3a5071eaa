"""The one error of cost sharing: a problem the user can fix, said in one line."""


class CostError(ValueError):
    """A bad period, model or request; the message says what to fix."""

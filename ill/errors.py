"""The ILL services' errors: each message is one line that says what is wrong and what to do."""

from __future__ import annotations

from ill.states import IllegalTransition

__all__ = ["Conflict", "Forbidden", "IllError", "IllegalTransition", "InvalidRequest", "NotFound"]


class IllError(Exception):
    """An ILL operation cannot be done; the message says why in one line."""


class NotFound(IllError):
    """No such request, or not one the actor may see."""


class Forbidden(IllError):
    """The actor may see the request but not do this to it."""


class Conflict(IllError):
    """Someone changed the request since the actor read it."""


class InvalidRequest(IllError):
    """The fields of a new request are wrong; the message names the field and the fix."""

"""Marshmallow schemas of the ILL API: what a request looks like to a member system."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from ill.schemas import NewRequestSchema
from ill.states import REQUESTER_ACTIONS, STATUSES, SUPPLIER_STATUSES


class TermSchema(Schema):
    """One term of a lender's score: its value (0-1), weight, points and the reason."""

    value = fields.Float()
    weight = fields.Float()
    points = fields.Float()
    why = fields.String()


class RotaEntrySchema(Schema):
    """A candidate lender: its rank and score terms, or why it was left out."""

    member = fields.String(attribute="member_code")
    rank = fields.Integer(allow_none=True)
    filter_reason = fields.String(allow_none=True)
    score = fields.Float()
    terms = fields.Dict(keys=fields.String(), values=fields.Nested(TermSchema))
    tie_break = fields.Float()
    outcome = fields.String()
    asked_at = fields.DateTime(allow_none=True)
    deadline_at = fields.DateTime(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)


class EventSchema(Schema):
    """One line of the timeline."""

    at = fields.DateTime()
    actor = fields.String()
    side = fields.String()
    event = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    lender = fields.String(attribute="lender_code", allow_none=True)
    message = fields.String()


class AllowedSchema(Schema):
    """What the caller may do next."""

    supplier_statuses = fields.List(fields.String())
    actions = fields.List(fields.String())


class IllRequestSchema(Schema):
    """An ILL request as its borrower or lender sees it (never the reader's identity)."""

    id = fields.Integer()
    version = fields.Integer()
    status = fields.String(validate=validate.OneOf(STATUSES))
    requester_state = fields.String(allow_none=True)
    borrower = fields.String(attribute="borrower_code")
    lender = fields.String(attribute="lender_code", allow_none=True)
    cluster_id = fields.String(allow_none=True)
    citation = fields.Dict()
    title = fields.String()
    service_type = fields.String()
    service_level = fields.String()
    needed_by = fields.Date(allow_none=True)
    max_cost = fields.Float(allow_none=True)
    pickup_location = fields.String()
    mediated = fields.Boolean()
    duplicate_of = fields.Integer(allow_none=True)
    local_holding = fields.Boolean()
    due_at = fields.DateTime(allow_none=True)
    renewals = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    simulated = fields.Boolean()
    allowed = fields.Nested(AllowedSchema)
    events = fields.List(fields.Nested(EventSchema))
    rota = fields.List(fields.Nested(RotaEntrySchema))


class IllRequestSummarySchema(IllRequestSchema):
    """A request in a list: without its timeline and rota."""

    class Meta:
        exclude = ("events", "rota")


class IllRequestListSchema(Schema):
    """A page of requests of one queue."""

    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    requests = fields.List(fields.Nested(IllRequestSummarySchema))


class QueueArgsSchema(Schema):
    """Query parameters of the request lists."""

    class Meta:
        unknown = EXCLUDE

    side = fields.String(
        load_default="outgoing",
        validate=validate.OneOf(("outgoing", "incoming"), error="use outgoing or incoming"),
    )
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    q = fields.String(load_default="", validate=validate.Length(max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10000))
    page_size = fields.Integer(load_default=25, validate=validate.Range(1, 100))


class SupplierStatusSchema(Schema):
    """A lender's answer."""

    class Meta:
        unknown = EXCLUDE

    status = fields.String(
        required=True,
        validate=validate.OneOf(SUPPLIER_STATUSES, error="use an ISO 18626 supplier status"),
    )
    message = fields.String(load_default="", validate=validate.Length(max=2000))
    version = fields.Integer(load_default=None, allow_none=True)


class RequesterActionSchema(Schema):
    """A borrower's action."""

    class Meta:
        unknown = EXCLUDE

    action = fields.String(
        required=True,
        validate=validate.OneOf(REQUESTER_ACTIONS, error="use a requester action"),
    )
    message = fields.String(load_default="", validate=validate.Length(max=2000))
    version = fields.Integer(load_default=None, allow_none=True)


class PatronSchema(Schema):
    """The reader behind a request (borrowing library's staff only; every read audited)."""

    name = fields.String(allow_none=True)
    card = fields.String(allow_none=True)
    anonymised = fields.Boolean()


__all__ = [
    "IllRequestListSchema", "IllRequestSchema", "NewRequestSchema", "PatronSchema",
    "QueueArgsSchema", "RequesterActionSchema", "SupplierStatusSchema",
]  # fmt: skip

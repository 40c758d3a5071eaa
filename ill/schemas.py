"""What a new ILL request may say, checked at the service's edge (the API and forms reuse it)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from ill.states import SERVICE_LEVELS, SERVICE_TYPES


class CitationSchema(Schema):
    """A citation for an item outside the union catalogue (article or chapter for copies)."""

    class Meta:
        unknown = EXCLUDE

    title = fields.String(required=True, validate=validate.Length(1, 500))
    author = fields.String(load_default="", validate=validate.Length(max=300))
    article_title = fields.String(load_default="", validate=validate.Length(max=500))
    journal = fields.String(load_default="", validate=validate.Length(max=300))
    volume = fields.String(load_default="", validate=validate.Length(max=50))
    issue = fields.String(load_default="", validate=validate.Length(max=50))
    pages = fields.String(load_default="", validate=validate.Length(max=50))
    year = fields.String(load_default="", validate=validate.Length(max=20))
    isbn = fields.String(load_default="", validate=validate.Length(max=20))
    issn = fields.String(load_default="", validate=validate.Length(max=20))


class NewRequestSchema(Schema):
    """The fields of a new request, as staff or a reader submit them."""

    class Meta:
        unknown = EXCLUDE

    cluster_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 64))
    citation = fields.Nested(CitationSchema, load_default=None, allow_none=True)
    service_type = fields.String(
        load_default="Loan",
        validate=validate.OneOf(SERVICE_TYPES, error="use one of Loan, Copy, CopyOrLoan"),
    )
    service_level = fields.String(
        load_default="Normal",
        validate=validate.OneOf(SERVICE_LEVELS, error="use one of Rush, Express, Normal"),
    )
    needed_by = fields.Date(load_default=None, allow_none=True)
    max_cost = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=100000, error="a cost between 0 and 100000"),
    )
    pickup_location = fields.String(load_default="", validate=validate.Length(max=200))
    patron_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200)
    )
    patron_card = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=64)
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    use_local = fields.Boolean(load_default=True)

    @validates_schema
    def check_item(self, data: dict, **kwargs) -> None:
        """Ask for exactly one of a catalogue cluster and a citation."""
        if bool(data.get("cluster_id")) == bool(data.get("citation")):
            raise ValidationError(
                "give either cluster_id (a title of the union catalogue) or a citation",
                "cluster_id",
            )


def first_error(messages: dict | list | str, prefix: str = "") -> str:
    """Return the first validation message as one line: 'field: what to fix'."""
    if isinstance(messages, dict):
        key, value = next(iter(messages.items()))
        name = f"{prefix}.{key}" if prefix else str(key)
        return first_error(value, "" if key == "_schema" else name)
    if isinstance(messages, list):
        return first_error(messages[0], prefix) if messages else prefix
    return f"{prefix}: {messages}" if prefix else str(messages)

"""marshmallow schemas of the service-gap report API (documented in the OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from federation.reports.report import LIBRARY_TYPES


class ReportArgsSchema(Schema):
    period = fields.String(
        metadata={"description": "a year (2026), quarter (2026-Q2) or month (2026-03); "
                  "default: this year"},
        validate=validate.Regexp(r"^\d{4}(-(Q[1-4]|0[1-9]|1[0-2]))?$"),
    )  # fmt: skip
    district = fields.String(metadata={"description": "only this district (region code)"})
    type = fields.String(
        validate=validate.OneOf(LIBRARY_TYPES), metadata={"description": "only this library type"}
    )
    table = fields.String(metadata={"description": "CSV only: one table by id"})


class BilingualSchema(Schema):
    en = fields.String(required=True)
    zh = fields.String(required=True)


class GapSchema(Schema):
    district = fields.String(required=True)
    metric = fields.String(required=True)
    value = fields.Float(required=True)
    reference = fields.Float(
        required=True, metadata={"description": "the alliance median or the target"}
    )
    basis = fields.String(required=True, validate=validate.OneOf(("median", "target")))
    ratio = fields.Float(
        required=True, metadata={"description": "value against reference; below 1 is short"}
    )
    text = fields.Nested(BilingualSchema, required=True)


class ColumnSchema(Schema):
    key = fields.String(required=True)
    en = fields.String(required=True)
    zh = fields.String(required=True)
    kind = fields.String(
        required=True, validate=validate.OneOf(("text", "int", "float", "share", "code"))
    )


class TableSchema(Schema):
    id = fields.String(required=True)
    title = fields.Nested(BilingualSchema, required=True)
    columns = fields.List(fields.Nested(ColumnSchema), required=True)
    rows = fields.List(
        fields.Dict(keys=fields.String()),
        required=True,
        metadata={"description": "one object per row, keyed by column key; null: no data"},
    )


class FiltersSchema(Schema):
    district = fields.String(allow_none=True, required=True)
    library_type = fields.String(allow_none=True, required=True)


class ReportResponseSchema(Schema):
    period = fields.String(required=True)
    months = fields.List(fields.String(), required=True)
    previous_period = fields.String(required=True)
    filters = fields.Nested(FiltersSchema, required=True)
    has_data = fields.Boolean(required=True, metadata={"description": "any event in the period"})
    simulated = fields.Boolean(required=True, metadata={"description": "demo data included"})
    medians = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), required=True)
    largest_gaps = fields.List(fields.Nested(GapSchema), required=True)
    gaps = fields.List(fields.Nested(GapSchema), required=True)
    tables = fields.List(fields.Nested(TableSchema), required=True)

"""marshmallow schemas of the JSON API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from marshmallow import Schema, fields


class DistrictSchema(Schema):
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    population = fields.Integer(allow_none=True)
    kind = fields.String(allow_none=True)
    member_count = fields.Integer(required=True)


class MemberSchema(Schema):
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    type = fields.String(required=True)
    region = fields.String(required=True, attribute="region_code")
    latitude = fields.Float(required=True)
    longitude = fields.Float(required=True)
    metadata_prefix = fields.String(attribute="oai_metadata_prefix")

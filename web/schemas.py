"""marshmallow schemas of the JSON API (the OpenAPI document is generated from them)."""

from __future__ import annotations

import re

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from search.documents import FACET_FIELDS
from search.query import MAX_PAGE_SIZE, MAX_QUERY_CHARS, MAX_RESULT_WINDOW, SORTS


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


# --- search API: requests ---------------------------------------------------------------

_FACETS = tuple(FACET_FIELDS)


def _one_of(name: str, choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error=f"{name} must be one of {', '.join(choices)}")


_YEAR = validate.Range(min=-9999, max=9999, error="years are written as 1 to 4 digits, e.g. 1998")


_FILTER_PATTERN = (
    "^(?:(?:" + "|".join(f for f in FACET_FIELDS if f != "year") + "):.+|year:-?[0-9]{1,4})$"
)


class _SearchFilterArgs(Schema):
    """What narrows a search: the query string, facet filters, a year range."""

    class Meta:
        unknown = RAISE

    q = fields.String(
        load_default="",
        validate=validate.Length(
            max=MAX_QUERY_CHARS, error=f"q is limited to {MAX_QUERY_CHARS} characters"
        ),
        metadata={"description": 'query, e.g. `title:"中国 发展" AND author:王`'},
    )
    filter = fields.List(
        fields.String(metadata={"pattern": _FILTER_PATTERN}),
        load_default=list,
        metadata={
            "description": f"facet filter `name:value`, repeatable; names: {', '.join(_FACETS)}"
        },
    )
    year_from = fields.Integer(
        load_default=None, validate=_YEAR, metadata={"description": "earliest year, inclusive"}
    )
    year_to = fields.Integer(
        load_default=None, validate=_YEAR, metadata={"description": "latest year, inclusive"}
    )

    @validates("filter")
    def _check_filters(self, values: list[str], **_kwargs) -> None:
        for value in values:
            name, sep, rest = value.partition(":")
            if not sep or not rest:
                raise ValidationError(f"filter must be written name:value, got {value!r}")
            if name not in FACET_FIELDS:
                raise ValidationError(
                    f"unknown facet {name!r} in filter; known: {', '.join(_FACETS)}"
                )
            # search.query reads digit-like values as numbers, and int("³") fails there
            if any(c.isdigit() and not c.isdecimal() for c in rest):
                raise ValidationError(f"write digits 0-9 in filter values, got {value!r}")
            if name == "year" and not re.fullmatch(r"-?[0-9]{1,4}", rest):
                raise ValidationError(f"a year filter is written year:1998, got {value!r}")

    @validates_schema
    def _check_years(self, data: dict, **_kwargs) -> None:
        low, high = data.get("year_from"), data.get("year_to")
        if low is not None and high is not None and low > high:
            raise ValidationError(
                f"year_from ({low}) must not be after year_to ({high})", "year_from"
            )


class SearchArgsSchema(_SearchFilterArgs):
    """Query parameters of GET /api/v1/search."""

    sort = fields.String(load_default="relevance", validate=_one_of("sort", SORTS))
    page = fields.Integer(
        load_default=1, validate=validate.Range(min=1, error="page must be a whole number from 1")
    )
    page_size = fields.Integer(
        load_default=20,
        validate=validate.Range(
            min=1, max=MAX_PAGE_SIZE, error=f"page_size must be from 1 to {MAX_PAGE_SIZE}"
        ),
    )
    facet = fields.List(
        fields.String(validate=_one_of("facet", _FACETS)),
        load_default=list,
        metadata={"description": "facets to count, repeatable (default: all)"},
    )

    @validates_schema
    def _check_window(self, data: dict, **_kwargs) -> None:
        page, size = data.get("page") or 1, data.get("page_size") or 1
        if page * size > MAX_RESULT_WINDOW:
            raise ValidationError(
                f"only the first {MAX_RESULT_WINDOW} results can be paged through; "
                "narrow the search instead",
                "page",
            )


class FacetArgsSchema(_SearchFilterArgs):
    """Query parameters of GET /api/v1/facets."""

    facet = fields.List(
        fields.String(validate=_one_of("facet", _FACETS)),
        load_default=list,
        metadata={"description": "facets to count, repeatable (default: all)"},
    )
    facet_size = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=200, error="facet_size must be from 1 to 200"),
    )


# --- search API: answers ----------------------------------------------------------------


class HoldingSchema(Schema):
    record_id = fields.Integer()
    member = fields.String()
    member_name_zh = fields.String()
    member_name_en = fields.String()
    region = fields.String()
    region_name_zh = fields.String()
    region_name_en = fields.String()
    library_type = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    location = fields.String(allow_none=True)
    call_number = fields.String(allow_none=True)
    availability = fields.String(allow_none=True)
    item_count = fields.Integer(allow_none=True)


class ClusterDocSchema(Schema):
    """One cluster: one manifestation (edition) with every member's holdings."""

    cluster_id = fields.String(required=True)
    work_id = fields.String(allow_none=True)
    title = fields.String()
    subtitle = fields.String(allow_none=True)
    other_titles = fields.List(fields.String())
    authors = fields.List(fields.String())
    publisher = fields.String(allow_none=True)
    place = fields.String(allow_none=True)
    year = fields.Integer(allow_none=True)
    edition = fields.String(allow_none=True)
    languages = fields.List(fields.String())
    format = fields.String()
    subjects = fields.List(fields.String())
    clc = fields.List(fields.String())
    clc_main = fields.List(fields.String())
    isbns = fields.List(fields.String())
    issns = fields.List(fields.String())
    other_ids = fields.List(fields.String())
    series = fields.List(fields.String())
    pages = fields.Integer(allow_none=True)
    holdings = fields.List(fields.Nested(HoldingSchema))
    members = fields.List(fields.String())
    regions = fields.List(fields.String())
    library_types = fields.List(fields.String())
    holding_count = fields.Integer()
    available_count = fields.Integer()


class HitSchema(ClusterDocSchema):
    score = fields.Float(allow_none=True, metadata={"description": "relevance (null when sorted)"})
    highlights = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "HTML with <mark> around matched words"},
    )
    url = fields.String(metadata={"description": "this record in the API"})


class FacetBucketSchema(Schema):
    value = fields.String(required=True)
    count = fields.Integer(required=True)


class LinksSchema(Schema):
    self = fields.String(required=True)
    first = fields.String(required=True)
    last = fields.String(required=True)
    next = fields.String(allow_none=True)
    prev = fields.String(allow_none=True)


class SearchResponseSchema(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    hits = fields.List(fields.Nested(HitSchema), required=True)
    facets = fields.Dict(
        keys=fields.String(), values=fields.List(fields.Nested(FacetBucketSchema)), required=True
    )
    facets_approximate = fields.Boolean()
    links = fields.Nested(LinksSchema, required=True)


class FacetsResponseSchema(Schema):
    total = fields.Integer(required=True)
    facets = fields.Dict(
        keys=fields.String(), values=fields.List(fields.Nested(FacetBucketSchema)), required=True
    )
    facets_approximate = fields.Boolean()


class EvidenceSchema(Schema):
    record_id = fields.Integer(allow_none=True)
    rule = fields.String(required=True)
    label = fields.String(metadata={"description": "the rule in words (English)"})
    values = fields.Dict(keys=fields.String())
    matched_record_id = fields.Integer(allow_none=True)


class RecordResponseSchema(ClusterDocSchema):
    why_merged = fields.List(
        fields.Nested(EvidenceSchema),
        metadata={"description": "why each member's record is in this cluster"},
    )


class MembersResponseSchema(Schema):
    members = fields.List(fields.Nested(MemberSchema), required=True)
    count = fields.Integer(required=True)


class DistrictsResponseSchema(Schema):
    districts = fields.List(fields.Nested(DistrictSchema), required=True)
    count = fields.Integer(required=True)


class ErrorBodySchema(Schema):
    code = fields.String(
        required=True, metadata={"description": "machine-readable, e.g. bad_request"}
    )
    message = fields.String(required=True, metadata={"description": "what to fix"})
    details = fields.Dict(keys=fields.String())


class ErrorSchema(Schema):
    """The one error shape of every API failure."""

    error = fields.Nested(ErrorBodySchema, required=True)

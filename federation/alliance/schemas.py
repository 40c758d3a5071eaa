"""marshmallow schemas of the alliance file; each loads into the dataclasses of model.py."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from federation.alliance import fields as af
from federation.alliance.model import (
    LENDS,
    MEMBER_TYPES,
    RECORD_FORMATS,
    REGION_KINDS,
    REGION_LEVELS,
    REPORT_METRICS,
    REPORT_SHARES,
    SIZE_MEASURES,
    Alliance,
    BusinessHours,
    CostSharing,
    Fees,
    HoldingsField,
    IllFees,
    IllPolicy,
    LenderRanking,
    Liaison,
    Member,
    OaiSource,
    Region,
    ReportSettings,
    ShareWeights,
)

_PREFIX_FORMATS = {
    "marc21": "marc21",
    "marcxml": "marc21",
    "usmarc": "marc21",
    "unimarc": "unimarc",
    "cnmarc": "cnmarc",
    "oai_dc": "dc",
    "dc": "dc",
}
MAX_MONEY = 10**12


def one_of(choices: tuple[str, ...], what: str) -> validate.OneOf:
    return validate.OneOf(
        choices, error=f"{{input!r}} is not a {what}; use one of: " + ", ".join(choices)
    )


def at_least(low: float, what: str, high: float | None = None) -> validate.Range:
    upper = f" and at most {high:g}" if high is not None else ""
    return validate.Range(low, high, error=f"{what} must be at least {low:g}{upper}; got {{input}}")


def money(**kwargs: Any) -> fields.Decimal:
    rule = validate.Range(
        0, MAX_MONEY, error="an amount in CNY must be 0 or more (and below 10^12); got {input}"
    )
    return fields.Decimal(places=2, validate=rule, **kwargs)


def whole(low: int, what: str, high: int | None = None, **kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=at_least(low, what, high), **kwargs)


def share(**kwargs: Any) -> fields.Float:
    return fields.Float(validate=at_least(0, "a share", 1), **kwargs)


class StrictSchema(Schema):
    """Refuse unknown keys: a misspelt key must stop the load, not be ignored."""

    class Meta:
        unknown = RAISE


class NamesSchema(StrictSchema):
    zh = af.Text(required=True)
    en = af.Text(load_default=None)

    @post_load
    def build(self, data: dict, **kwargs: Any) -> dict:
        return {"name_zh": data["zh"], "name_en": data["en"] or data["zh"]}


class CoordinatesSchema(StrictSchema):
    lat = fields.Float(
        required=True,
        validate=validate.Range(
            -90,
            90,
            error="latitude must be between -90 and 90 (degrees north), got {input}; "
            "if that is the longitude, swap lat and lon",
        ),
    )
    lon = fields.Float(
        required=True,
        validate=validate.Range(
            -180, 180, error="longitude must be between -180 and 180 (degrees east), got {input}"
        ),
    )


class AllianceInfoSchema(StrictSchema):
    name = fields.Nested(NamesSchema, required=True)
    time_zone = af.TimeZone(load_default="Asia/Shanghai")
    default_locale = af.Text(load_default="zh_CN", validate=one_of(("zh_CN", "en"), "locale"))


class RegionSchema(StrictSchema):
    code = af.Code(required=True)
    name = fields.Nested(NamesSchema, required=True)
    parent = af.Code(load_default=None, allow_none=True)
    level = af.Text(load_default=None, validate=one_of(REGION_LEVELS, "region level"))
    kind = af.Text(load_default=None, validate=one_of(REGION_KINDS, "region kind"))
    population = whole(
        1, "a population", metadata={"help": "people living there"}, load_default=None
    )
    division_code = af.Text(
        load_default=None,
        validate=validate.Regexp(
            r"\d{6}\Z", error="{input!r} is not a 6-digit administrative division code (GB/T 2260)"
        ),
    )

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Region:
        return Region(**data.pop("name"), **data)


def _subfield_codes() -> fields.Field:
    return af.Text(
        load_default="",
        validate=validate.Regexp(
            r"[a-z0-9]*\Z", error="{input!r} must be subfield codes, e.g. 'h' or 'hi'"
        ),
    )


class HoldingsFieldSchema(StrictSchema):
    """Where a member's records keep holdings: a tag and the subfield codes of each part."""

    tag = af.Text(
        required=True,
        validate=validate.Regexp(r"[0-9A-Z]{3}\Z", error="{input!r} is not a three-character tag"),
    )
    library = _subfield_codes()
    location = _subfield_codes()
    call_number = _subfield_codes()
    availability = _subfield_codes()
    item_count = _subfield_codes()
    per_item = fields.Boolean(load_default=False)


class OaiSchema(StrictSchema):
    base_url = af.HttpUrl(required=True)
    metadata_prefix = af.Text(
        required=True,
        validate=validate.Regexp(
            r"[A-Za-z0-9_.!~*'()-]+\Z", error="{input!r} is not an OAI-PMH metadataPrefix"
        ),
    )
    record_format = af.Text(load_default=None, validate=one_of(RECORD_FORMATS, "record format"))
    sets = fields.List(af.Text(), load_default=list)
    schedule = af.Schedule(required=True)
    holdings = fields.List(fields.Nested(HoldingsFieldSchema), load_default=list)

    @validates_schema
    def check_format(self, data: dict, **kwargs: Any) -> None:
        if data["record_format"] is None and data["metadata_prefix"] not in _PREFIX_FORMATS:
            raise ValidationError(
                f"cannot tell the record format from the prefix {data['metadata_prefix']!r}; "
                "add record_format: marc21, unimarc, cnmarc or dc",
                "record_format",
            )

    @post_load
    def build(self, data: dict, **kwargs: Any) -> OaiSource:
        fmt = data.pop("record_format") or _PREFIX_FORMATS[data["metadata_prefix"]]
        holdings = tuple(HoldingsField(**h) for h in data.pop("holdings"))
        return OaiSource(record_format=fmt, sets=tuple(data.pop("sets")), holdings=holdings, **data)


class FeesSchema(StrictSchema):
    loan = money(load_default=0)
    copy = money(load_default=0)
    currency = af.Text(load_default="CNY", validate=one_of(("CNY",), "currency"))

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Fees:
        return Fees(**data)


class TierFeesSchema(FeesSchema):
    class Meta(StrictSchema.Meta):
        exclude = ("currency",)


class IllPolicySchema(StrictSchema):
    lends = fields.List(af.Text(validate=one_of(LENDS, "kind of lending")), required=True)
    loan_days = whole(1, "a loan period in days", 365, load_default=None, allow_none=True)
    fees = fields.Nested(FeesSchema, load_default=Fees)
    business_hours = af.WeeklyHours(required=True)
    closures = af.Closures(load_default=tuple)
    time_zone = af.TimeZone(load_default=None)
    daily_capacity = whole(0, "a daily capacity", 10_000, required=True)
    response_hours = whole(1, "a response deadline in business hours", 24 * 30, required=True)
    iso18626_endpoint = af.HttpUrl(load_default=None, allow_none=True)

    @validates_schema
    def check_lending(self, data: dict, **kwargs: Any) -> None:
        if len(set(data["lends"])) != len(data["lends"]):
            raise ValidationError("each of loans and copies may appear once", "lends")
        if "loans" in data["lends"] and data["loan_days"] is None:
            raise ValidationError(
                "required because lends includes loans; give the loan period "
                "in days, e.g. loan_days: 30",
                "loan_days",
            )
        if data["lends"] and not any(data["business_hours"].values()):
            raise ValidationError(
                "a lending library needs at least one open day, e.g. mon-fri: '08:30-17:30'",
                "business_hours",
            )

    @post_load
    def build(self, data: dict, **kwargs: Any) -> IllPolicy:
        hours = BusinessHours(**data.pop("business_hours"))
        return IllPolicy(business_hours=hours, lends=tuple(data.pop("lends")), **data)


class LiaisonSchema(StrictSchema):
    name = af.Text(required=True)
    email = fields.Email(
        load_default=None,
        error_messages={
            "invalid": "not a valid e-mail address; write e.g. ill@library.example.org"
        },
    )
    phone = af.Text(
        load_default=None,
        validate=validate.Regexp(
            r"\+?[0-9][0-9 ()-]{4,24}\Z",
            error="{input!r} is not a phone number; use digits, spaces, "
            "'-', '+', e.g. '+86 535 1234567'",
        ),
    )

    @validates_schema
    def check_contact(self, data: dict, **kwargs: Any) -> None:
        if not data["email"] and not data["phone"]:
            raise ValidationError("give at least one of email and phone", "email")

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Liaison:
        return Liaison(**data)


class MemberSchema(StrictSchema):
    code = af.Code(required=True)
    name = fields.Nested(NamesSchema, required=True)
    type = af.Text(required=True, validate=one_of(MEMBER_TYPES, "member type"))
    region = af.Code(required=True)
    coordinates = fields.Nested(CoordinatesSchema, required=True)
    fte = whole(1, "an FTE count", load_default=None, allow_none=True)
    oai = fields.Nested(OaiSchema, required=True)
    ill = fields.Nested(IllPolicySchema, required=True)
    liaison = fields.Nested(LiaisonSchema, required=True)

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Member:
        where = data.pop("coordinates")
        return Member(**data.pop("name"), latitude=where["lat"], longitude=where["lon"], **data)


class WeightsSchema(StrictSchema):
    alpha = share(required=True)
    beta = share(required=True)
    gamma = share(required=True)

    @validates_schema
    def check_sum(self, data: dict, **kwargs: Any) -> None:
        total = data["alpha"] + data["beta"] + data["gamma"]
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValidationError(
                f"alpha + beta + gamma must sum to 1, they sum to {total:g}; adjust them", "_schema"
            )


class IllFeesSchema(StrictSchema):
    same_district = fields.Nested(TierFeesSchema, load_default=Fees)
    reciprocal = fields.Nested(TierFeesSchema, load_default=Fees)
    cross_district = fields.Nested(TierFeesSchema, load_default=Fees)
    reciprocal_agreements = fields.List(
        fields.List(
            af.Code(),
            validate=validate.Length(min=2, error="an agreement names at least 2 member codes"),
        ),
        load_default=list,
    )

    @post_load
    def build(self, data: dict, **kwargs: Any) -> IllFees:
        groups = tuple(tuple(g) for g in data.pop("reciprocal_agreements"))
        return IllFees(reciprocal_agreements=groups, **data)


class CostSharingSchema(StrictSchema):
    currency = af.Text(load_default="CNY", validate=one_of(("CNY",), "currency"))
    common_costs = money(required=True)
    base_share = share(required=True)
    weights = fields.Nested(WeightsSchema, required=True)
    size_measure = af.Text(required=True, validate=one_of(SIZE_MEASURES, "size measure"))
    averaging_years = whole(1, "a number of years", 10, load_default=3)
    ill_fees = fields.Nested(IllFeesSchema, load_default=IllFees)
    net_lender_pool = money(load_default=0)
    pool_per_loan_part = share(load_default=0.5)
    district_subsidies = fields.Dict(keys=af.Code(), values=money(), load_default=dict)

    @validates_schema
    def check_pool(self, data: dict, **kwargs: Any) -> None:
        if "common_costs" not in data or "net_lender_pool" not in data:
            return  # already reported by the field itself
        if data["net_lender_pool"] > data["common_costs"]:
            raise ValidationError(
                f"the net-lender pool ({data['net_lender_pool']}) is paid out of the common "
                f"costs ({data['common_costs']}); make it no larger than common_costs",
                "net_lender_pool",
            )

    @post_load
    def build(self, data: dict, **kwargs: Any) -> CostSharing:
        return CostSharing(weights=ShareWeights(**data.pop("weights")), **data)


class LenderRankingSchema(StrictSchema):
    distance = fields.Float(validate=at_least(0, "a weight"), load_default=0.35)
    load = fields.Float(validate=at_least(0, "a weight"), load_default=0.2)
    turnaround = fields.Float(validate=at_least(0, "a weight"), load_default=0.2)
    fee = fields.Float(validate=at_least(0, "a weight"), load_default=0.15)
    fairness = fields.Float(validate=at_least(0, "a weight"), load_default=0.1)
    availability = fields.Float(validate=at_least(0, "a weight"), load_default=0.2)

    @validates_schema
    def check_positive(self, data: dict, **kwargs: Any) -> None:
        if sum(data.values()) <= 0:
            raise ValidationError("at least one weight must be above 0", "_schema")

    @post_load
    def build(self, data: dict, **kwargs: Any) -> LenderRanking:
        return LenderRanking(**data)


class ReportsSchema(StrictSchema):
    gap_share = fields.Float(
        load_default=0.6,
        validate=validate.Range(
            0, 1, min_inclusive=False,
            error="gap_share must be above 0 and at most 1 (0.6 flags a district below 60% "
            "of the alliance median); got {input}",
        ),
    )  # fmt: skip
    targets = fields.Dict(
        keys=af.Text(validate=one_of(REPORT_METRICS, "report metric")),
        values=fields.Float(validate=at_least(0, "a target")),
        load_default=dict,
    )

    @validates_schema
    def check_shares(self, data: dict, **kwargs: Any) -> None:
        for key in REPORT_SHARES:
            value = data["targets"].get(key)
            if value is not None and value > 1:
                raise ValidationError(
                    f"{key} is a share between 0 and 1 (0.8 means 80%); got {value:g}", "targets"
                )

    @post_load
    def build(self, data: dict, **kwargs: Any) -> ReportSettings:
        return ReportSettings(**data)


class AllianceFileSchema(StrictSchema):
    version = fields.Integer(
        strict=True,
        load_default=1,
        validate=validate.Equal(
            1, error="this platform reads alliance files of version 1; got {input}"
        ),
    )
    alliance = fields.Nested(AllianceInfoSchema, required=True)
    regions = fields.List(
        fields.Nested(RegionSchema),
        required=True,
        validate=validate.Length(min=1, error="list at least one region"),
    )
    members = fields.List(
        fields.Nested(MemberSchema),
        required=True,
        validate=validate.Length(min=1, error="list at least one member"),
    )
    cost_sharing = fields.Nested(CostSharingSchema, required=True)
    lender_ranking = fields.Nested(LenderRankingSchema, load_default=LenderRanking)
    reports = fields.Nested(ReportsSchema, load_default=ReportSettings)

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Alliance:
        info = data["alliance"]
        tz = info["time_zone"]
        members = tuple(
            m
            if m.ill.time_zone
            else dataclasses.replace(m, ill=dataclasses.replace(m.ill, time_zone=tz))
            for m in data["members"]
        )
        return Alliance(
            **info.pop("name"),
            time_zone=tz,
            default_locale=info["default_locale"],
            regions=tuple(data["regions"]),
            members=members,
            cost_sharing=data["cost_sharing"],
            lender_ranking=data["lender_ranking"],
            reports=data["reports"],
        )

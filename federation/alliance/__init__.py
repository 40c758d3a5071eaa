"""The alliance file: regions, member libraries, ILL policies and cost-sharing parameters.

alliance = load_alliance("config/demo/alliance.yaml")   # or AllianceFileError, one line
"""

from federation.alliance.errors import AllianceFileError
from federation.alliance.fields import schedule_trigger
from federation.alliance.loader import load_alliance, load_alliance_text, load_ill_policy
from federation.alliance.model import (
    Alliance,
    BusinessHours,
    ClosurePeriod,
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
    TimeSpan,
    as_plain,
)

__all__ = [
    "Alliance",
    "AllianceFileError",
    "BusinessHours",
    "ClosurePeriod",
    "CostSharing",
    "Fees",
    "IllFees",
    "IllPolicy",
    "LenderRanking",
    "Liaison",
    "Member",
    "HoldingsField",
    "OaiSource",
    "Region",
    "ReportSettings",
    "ShareWeights",
    "TimeSpan",
    "as_plain",
    "load_alliance",
    "load_alliance_text",
    "load_ill_policy",
    "schedule_trigger",
]

"""JSON API, version 1: members and districts (search and records come with the index)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select

from federation.members import alliance_overview
from federation.models import Member
from web import get_db
from web.schemas import DistrictSchema, MemberSchema

bp = Blueprint("api", __name__)


@bp.get("/members")
def members():
    """List the alliance's active member libraries."""
    with get_db().session() as session:
        rows = session.scalars(
            select(Member).where(Member.active.is_(True)).order_by(Member.code)
        ).all()
        data = MemberSchema(many=True).dump(rows)
    return jsonify({"members": data, "count": len(data)})


@bp.get("/districts")
def districts():
    """List the districts that have member libraries, with their populations."""
    with get_db().session() as session:
        overview = alliance_overview(session, "en")
    data = DistrictSchema(many=True).dump(
        [{**d.region_fields(), "member_count": len(d.members)} for d in overview.districts]
    )
    return jsonify({"districts": data, "count": len(data)})

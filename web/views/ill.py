"""Placeholder: the staff ILL screens (filled in below)."""
from flask import Blueprint

bp = Blueprint("ill", __name__)

"""Documented default settings and alliance files; no code beyond locating them."""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
DEMO_ALLIANCE_FILE = CONFIG_DIR / "demo" / "alliance.yaml"

"""Every setting of the platform, declared once, and the loader that checks them.

Order of precedence (later wins): the defaults below, the YAML file named by the
``FEDERATION_CONFIG`` environment variable, ``FEDERATION_<NAME>`` environment variables,
then overrides passed by the caller (tests, the CLI). Nothing reads configuration at import
time: call :func:`load_settings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ENV_PREFIX = "FEDERATION_"
CONFIG_ENV = "FEDERATION_CONFIG"


class ConfigError(Exception):
    """A setting is unknown or has the wrong type; the message names the key and the fix."""


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "INSTANCE_PATH",
        str,
        "instance",
        "Folder for the SQLite database, the search index, the secret key and logs.",
    ),
    Setting(
        "DATABASE_URL",
        str,
        "",
        "SQLAlchemy URL of the record store; empty means an SQLite file in the instance "
        "folder. PostgreSQL: postgresql+psycopg://user@host/dbname.",
    ),
    Setting(
        "ALLIANCE_FILE",
        str,
        "",
        "YAML file describing regions, members and cost sharing; empty means the demo "
        "alliance shipped in config/demo/alliance.yaml.",
    ),
    Setting(
        "SECRET_KEY",
        str,
        "",
        "Key that signs sessions and tokens; empty means one is generated once and kept in "
        "the instance folder.",
    ),
    Setting(
        "READER_DATA_KEY",
        str,
        "",
        "Key (Fernet, url-safe base64 of 32 bytes) that encrypts reader names and card numbers "
        "at rest; empty means one is generated once and kept in the instance folder.",
    ),
    Setting(
        "READER_DATA_RETENTION_DAYS",
        int,
        90,
        "Days after an ILL request completes before the reader's name and card number are erased.",
    ),
    Setting(
        "SEARCH_BACKEND",
        str,
        "tantivy",
        "Search engine: tantivy (embedded, default) or elasticsearch (at scale).",
        ("tantivy", "elasticsearch"),
    ),
    Setting(
        "ELASTICSEARCH_URL",
        str,
        "",
        "URL of the Elasticsearch cluster when SEARCH_BACKEND is elasticsearch.",
    ),
    Setting(
        "SEARCH_RESULT_CACHE_SIZE",
        int,
        1000,
        "Recent search results each web worker keeps (tantivy; a commit or rebuild makes "
        "them unreachable); 0 keeps none.",
    ),
    Setting(
        "OAI_ADMIN_EMAIL",
        str,
        "oai-admin@example.org",
        "Contact address the union catalogue's OAI-PMH endpoint gives harvesters (Identify).",
    ),
    Setting(
        "DEFAULT_LOCALE",
        str,
        "zh_CN",
        "Interface language when the reader has not chosen one.",
        ("zh_CN", "en"),
    ),
    Setting("HOST", str, "127.0.0.1", "Address the web server listens on."),
    Setting("PORT", int, 5000, "Port the web server listens on."),
    Setting(
        "PROXY_HOPS",
        int,
        0,
        "Reverse proxies in front of the web application that set X-Forwarded-For/-Proto/-Host "
        "(0: clients connect directly). Set it only when such a proxy is there, or clients "
        "could forge their address.",
    ),
    Setting("LOG_LEVEL", str, "INFO", "Logging level.", ("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting(
        "HARVEST_TIMEOUT", float, 30.0, "Seconds to wait for one OAI-PMH response before retrying."
    ),
    Setting(
        "HARVEST_MAX_RETRIES",
        int,
        5,
        "Retries of one OAI-PMH request (timeouts, connection errors, 429, 5xx).",
    ),
    Setting(
        "HARVEST_BACKOFF_CAP",
        float,
        60.0,
        "Longest wait in seconds between two retries, Retry-After included.",
    ),
    Setting(
        "ILL_PEER_SECRETS",
        str,
        "",
        "Shared secrets of members that run their own ISO 18626 system, as code=secret pairs "
        "separated by commas; a peer sends its secret as Authorization: Peer <secret>, and the "
        "platform sends it on every message to that peer.",
    ),
    Setting(
        "ILL_PEER_TIMEOUT", float, 10.0, "Seconds to wait for a peer's ISO 18626 confirmation."
    ),
    Setting(
        "ILL_PEER_SEND_IN_BACKGROUND",
        bool,
        True,
        "Web application: send ISO 18626 messages from a thread of the process once the change "
        "is committed, so a page never waits for a slow or unreachable peer.",
    ),
    Setting(
        "ILL_PEER_MAX_RETRIES",
        int,
        3,
        "Retries of one outgoing ISO 18626 message (timeouts, connection errors, 429, 5xx).",
    ),
)

SETTINGS += (
    Setting(
        "ILL_RUSH_HOURS",
        float,
        4.0,
        "Business hours a lender has to answer a Rush ILL request (at most its own deadline).",
    ),
    Setting(
        "ILL_EXPRESS_HOURS",
        float,
        8.0,
        "Business hours a lender has to answer an Express ILL request (Normal: its own deadline).",
    ),
    Setting(
        "ILL_RECALL_AFTER_DAYS", int, 14, "Days an ILL loan may be overdue before it is recalled."
    ),
    Setting("ILL_MAX_RENEWALS", int, 1, "Renewals an ILL loan may have."),
    Setting(
        "MAIL_BACKEND",
        str,
        "console",
        "How ILL notices are e-mailed: console (written to the log) or smtp.",
        ("console", "smtp"),
    ),
    Setting("MAIL_FROM", str, "ill@localhost", "Sender address of ILL notice e-mails."),
    Setting("SMTP_HOST", str, "localhost", "SMTP server for MAIL_BACKEND smtp."),
    Setting("SMTP_PORT", int, 25, "Port of the SMTP server."),
    Setting("SMTP_USER", str, "", "SMTP user name; empty sends without logging in."),
    Setting("SMTP_PASSWORD", str, "", "SMTP password."),
    Setting("SMTP_STARTTLS", bool, False, "Use STARTTLS with the SMTP server."),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


def defaults() -> dict[str, Any]:
    """Return the default value of every setting."""
    return {s.name: s.default for s in SETTINGS}


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    """Convert ``value`` to the setting's type or raise a ConfigError naming the fix."""
    expected = {int: "whole number", float: "number", bool: "true or false"}.get(
        setting.type, "text"
    )
    try:
        if setting.type is bool:
            value = _to_bool(value)
        elif setting.type is int and not isinstance(value, bool):
            value = int(str(value).strip())
        elif setting.type is float and not isinstance(value, bool):
            value = float(str(value).strip())
        elif (
            setting.type is str
            and isinstance(value, str | int | float)
            and not isinstance(value, bool)
        ):
            value = str(value)
        else:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(
            f"{origin}: {setting.name} must be a {expected}, got {value!r}; {setting.help}"
        ) from None
    if setting.choices and value not in setting.choices:
        raise ConfigError(
            f"{origin}: {setting.name} must be one of {', '.join(setting.choices)}, got {value!r}"
        )
    return value


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(value)


def _apply(values: dict[str, Any], source: Mapping[str, Any], origin: str) -> None:
    for key, raw in source.items():
        setting = SETTINGS_BY_NAME.get(str(key).upper())
        if setting is None:
            known = ", ".join(sorted(SETTINGS_BY_NAME))
            raise ConfigError(f"{origin}: unknown setting {key!r}; known settings: {known}")
        values[setting.name] = _coerce(setting, raw, origin)


def _read_file(path: str) -> Mapping[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the settings file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of SETTING: value")
    return data


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Load and check every setting; raise ConfigError with a one-line message on a bad one."""
    environ = os.environ if environ is None else environ
    values = defaults()
    config_file = environ.get(CONFIG_ENV)
    if config_file:
        _apply(values, _read_file(config_file), config_file)
    from_env = {
        k[len(ENV_PREFIX) :]: v
        for k, v in environ.items()
        if k.startswith(ENV_PREFIX) and k != CONFIG_ENV
    }
    _apply(values, from_env, "environment (FEDERATION_*)")
    if overrides:
        _apply(values, overrides, "overrides")
    return _derive(values)


def _derive(values: dict[str, Any]) -> dict[str, Any]:
    """Fill the settings whose default depends on others (paths inside the instance folder)."""
    from config import DEMO_ALLIANCE_FILE

    instance = Path(values["INSTANCE_PATH"]).expanduser().resolve()
    values["INSTANCE_PATH"] = str(instance)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance / 'federation.sqlite3'}"
    if not values["ALLIANCE_FILE"]:
        values["ALLIANCE_FILE"] = str(DEMO_ALLIANCE_FILE)
    if values["SEARCH_RESULT_CACHE_SIZE"] < 0:
        raise ConfigError(
            f"SEARCH_RESULT_CACHE_SIZE must be 0 or more, got {values['SEARCH_RESULT_CACHE_SIZE']}"
        )
    if values["SEARCH_BACKEND"] == "elasticsearch" and not values["ELASTICSEARCH_URL"]:
        raise ConfigError(
            "SEARCH_BACKEND is elasticsearch but ELASTICSEARCH_URL is empty; "
            "set FEDERATION_ELASTICSEARCH_URL=http://host:9200"
        )
    return values


def ensure_secret_key(settings: dict[str, Any]) -> str:
    """Return the secret key, generating and keeping one in the instance folder if unset."""
    if settings["SECRET_KEY"]:
        return settings["SECRET_KEY"]
    import secrets

    path = Path(settings["INSTANCE_PATH"]) / "secret_key"
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key, encoding="utf-8")
        path.chmod(0o600)
    settings["SECRET_KEY"] = key
    return key

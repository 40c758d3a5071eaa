import re

import pytest

from federation.settings import SETTINGS, ConfigError, load_settings
from tests.conftest import REPO_ROOT


def test_defaults_put_everything_in_the_instance_folder(tmp_path):
    settings = load_settings({"INSTANCE_PATH": str(tmp_path)}, environ={})
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'federation.sqlite3'}"
    assert settings["ALLIANCE_FILE"].endswith("config/demo/alliance.yaml")
    assert settings["SEARCH_BACKEND"] == "tantivy"


def test_file_then_environment_then_overrides(tmp_path):
    cfg = tmp_path / "settings.yaml"
    cfg.write_text("PORT: 6000\nLOG_LEVEL: DEBUG\nDEFAULT_LOCALE: en\n")
    env = {"FEDERATION_CONFIG": str(cfg), "FEDERATION_PORT": "7000"}
    settings = load_settings({"DEFAULT_LOCALE": "zh_CN"}, environ=env)
    assert settings["PORT"] == 7000
    assert settings["LOG_LEVEL"] == "DEBUG"
    assert settings["DEFAULT_LOCALE"] == "zh_CN"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"FEDERATION_PORT": "fifty"}, "PORT must be a whole number"),
        (
            {"FEDERATION_SEARCH_BACKEND": "solr"},
            "SEARCH_BACKEND must be one of tantivy, elasticsearch",
        ),
        ({"FEDERATION_COLOUR": "blue"}, "unknown setting 'COLOUR'"),
        ({"FEDERATION_SEARCH_BACKEND": "elasticsearch"}, "ELASTICSEARCH_URL is empty"),
    ],
)
def test_bad_settings_stop_with_one_line_naming_the_key(env, fragment):
    with pytest.raises(ConfigError) as err:
        load_settings(environ=env)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_settings_file(tmp_path):
    cfg = tmp_path / "settings.yaml"
    cfg.write_text("PORT: [1, 2\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+"):
        load_settings(environ={"FEDERATION_CONFIG": str(cfg)})


def test_every_setting_is_documented_in_the_readme():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`FEDERATION_([A-Z_]+)`", readme))
    missing = [s.name for s in SETTINGS if s.name not in documented]
    assert not missing, f"settings missing from README's configuration reference: {missing}"
    assert all(s.help for s in SETTINGS)

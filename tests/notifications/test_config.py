"""The [notifications] and [mail] settings: documented defaults, environment, validation."""

from pathlib import Path

import pytest

from affsrv.config import DEFAULTS, ConfigError, load_settings

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def test_example_file_documents_every_default():
    settings = load_settings(EXAMPLE, environ={})
    assert settings["notifications"] == DEFAULTS["notifications"]
    assert settings["mail"] == DEFAULTS["mail"]


def test_environment_overrides():
    env = {"AFFSRV_MAIL_HOST": "smtp.example", "AFFSRV_MAIL_PORT": "587",
           "AFFSRV_MAIL_SECURITY": "starttls", "AFFSRV_NOTIFICATIONS_MAX_ATTEMPTS": "3"}
    settings = load_settings(environ=env)
    assert (settings["mail"]["host"], settings["mail"]["port"],
            settings["mail"]["security"]) == ("smtp.example", 587, "starttls")
    assert settings["notifications"]["max_attempts"] == 3


@pytest.mark.parametrize("overrides, message", [
    ({"mail": {"security": "tls"}}, "mail.security"),
    ({"mail": {"port": 0}}, "mail.port"),
    ({"notifications": {"max_attempts": 0}}, "notifications.max_attempts"),
    ({"notifications": {"first_retry_seconds": 100, "max_retry_seconds": 50}},
     "notifications.max_retry_seconds"),
])
def test_bad_values_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={}, overrides=overrides)

"""Configuration: TOML file, environment overrides, strict keys and types."""

import itertools
import tomllib
from pathlib import Path

import pytest

from affsrv.config import (
    DEFAULTS,
    INT_RANGES,
    TEXT_RULES,
    ConfigError,
    database_url,
    load_settings,
)
from tests.serving import clean_env, run_affsrv

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_without_file_or_environment():
    settings = load_settings(environ={})
    assert settings == DEFAULTS
    assert settings["database"]["url"] == "sqlite:///var/affsrv.db"
    assert settings["tracking"]["param"] == "maff" and settings["tracking"]["cookie_days"] == 60
    assert settings["commissions"]["require_approval"] is True
    assert settings["logs"]["api"] is False


def test_example_file_documents_every_key_with_its_default():
    with (ROOT / "config.example.toml").open("rb") as handle:
        example = tomllib.load(handle)
    assert example == DEFAULTS


def test_example_file_shows_each_whole_numbers_range_beside_it():
    section, shown = "", {}
    lines = (ROOT / "config.example.toml").read_text("utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("["):
            section = line.strip("[]")
        elif " = " in line and not line.startswith("#"):
            # The key's line and the comment lines that continue it.
            text = line + "".join(
                itertools.takewhile(lambda following: following.startswith("  "), lines[i + 1:]))
            shown[f"{section}.{line.split(' = ')[0]}"] = text
    for name, (low, high) in INT_RANGES.items():
        assert f"[{low}-{high}]" in shown[name], name


def test_file_then_environment(tmp_path):
    path = tmp_path / "affsrv.toml"
    path.write_text('[tracking]\ncookie_days = 30\nparam = "ref"\n[logs]\napi = true\n')
    settings = load_settings(path, environ={"AFFSRV_TRACKING_COOKIE_DAYS": "90",
                                            "AFFSRV_DATABASE_URL": "postgresql://h/db",
                                            "AFFSRV_COMMISSIONS_REQUIRE_APPROVAL": "no"})
    assert settings["tracking"]["cookie_days"] == 90
    assert settings["tracking"]["param"] == "ref"
    assert settings["logs"]["api"] is True
    assert settings["commissions"]["require_approval"] is False
    assert database_url(settings) == "postgresql+psycopg://h/db"


def test_config_path_from_environment(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[server]\nworkers = 4\n')
    assert load_settings(environ={"AFFSRV_CONFIG": str(path)})["server"]["workers"] == 4


@pytest.mark.parametrize("text, message", [
    ('[tracking]\ncookie_dayz = 3\n', "unknown key tracking.cookie_dayz"),
    ('[trackin]\nparam = "x"\n', "unknown section [trackin]"),
    ('[tracking]\ncookie_days = "60"\n', "tracking.cookie_days: expected int, got str"),
    ('[logs]\napi = 1\n', "logs.api: expected bool, got int"),
    ('[server]\nworkers = true\n', "server.workers: expected int, got bool"),
    ('[server]\ntimezone = "Mars/Base"\n', "server.timezone: must be an IANA time zone"),
    ('[tracking]\ndefault_url = "javascript:alert(1)"\n', "tracking.default_url"),
    ('[commissions]\nmax_saletotal = "lots"\n', "commissions.max_saletotal"),
    ('[notifications]\nkeep_days = -1\n', "notifications.keep_days: must be from 0 to 36500"),
    ('[tracking\n', "config file"),
    ('tracking = 5\n', "[tracking] must be a table"),
])
def test_bad_file_stops_with_the_key_named(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(path, environ={})


@pytest.mark.parametrize("env, message", [
    ({"AFFSRV_TRACKING_COOKIE_DAYS": "sixty"}, "AFFSRV_TRACKING_COOKIE_DAYS: expected a whole"),
    ({"AFFSRV_LOGS_API": "maybe"}, "AFFSRV_LOGS_API: expected true or false"),
    ({"AFFSRV_TRACKING_COOKIEDAYS": "1"}, "unknown environment variable"),
])
def test_bad_environment_stops_with_the_variable_named(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_a_file_that_cannot_be_read_as_toml_text_is_named(tmp_path):
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b'[mail]\nfrom = "caf\xe9@shop.example"\n')
    with pytest.raises(ConfigError, match="latin1.toml is not UTF-8 text"):
        load_settings(latin1, environ={})
    with pytest.raises(ConfigError, match="cannot be read: Is a directory"):
        load_settings(tmp_path, environ={})


def test_cli_reports_bad_config_and_exits_non_zero(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "bad.toml"
    path.write_text('[tracking]\ncookie_dayz = 3\n')
    result = subprocess.run(
        [sys.executable, "-m", "affsrv", "--config", str(path), "affiliate", "list"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "unknown key tracking.cookie_dayz" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_whole_number_key_has_a_range():
    ints = {f"{section}.{key}" for section, values in DEFAULTS.items()
            for key, value in values.items()
            if isinstance(value, int) and not isinstance(value, bool)}
    assert ints == set(INT_RANGES)
    for name, (low, high) in INT_RANGES.items():
        section, key = name.split(".")
        assert low <= DEFAULTS[section][key] <= high, name


@pytest.mark.parametrize("name", sorted(INT_RANGES))
def test_a_whole_number_out_of_its_range_stops_start_up(name):
    low, high = INT_RANGES[name]
    section, key = name.split(".")
    var = f"AFFSRV_{section}_{key}".upper()
    for bad in (low - 1, high + 1):
        with pytest.raises(ConfigError, match=rf"^{name}: must be from {low} to {high}, got "):
            load_settings(environ={var: str(bad)})
    # The retry waits must also keep first <= max: widen the other one for the edge values.
    widened = {"AFFSRV_NOTIFICATIONS_FIRST_RETRY_SECONDS": "1",
               "AFFSRV_NOTIFICATIONS_MAX_RETRY_SECONDS": str(365 * 86400)}
    for good in (low, high):
        environ = {**widened, var: str(good)} if "retry" in key else {var: str(good)}
        assert load_settings(environ=environ)[section][key] == good


# Values each text rule must refuse, and values it must accept besides the default.
TEXT_CASES = {
    "database.url": (["", "nonsense://x", "mysql://u@h/db", "postgresql+psycopg2://h/db",
                      "sqlite://"],
                     ["sqlite:////srv/affsrv.db", "postgres://u:p@db.internal/affsrv",
                      "postgresql:///affsrv",
                      "postgresql://postgres@/test?host=/var/run/postgresql"]),
    "server.bind": (["garbage", "127.0.0.1:99999", ":8000", "127.0.0.1:", "unix:", "h:0"],
                    ["0.0.0.0:80", "[::1]:8000", "unix:/run/affsrv.sock"]),
    "server.timezone": (["Mars/Base", ""], ["Europe/Berlin"]),
    "tracking.param": (["", "a&b", "a b", "x" * 65], ["ref", "aff_id", "a.b-c"]),
    "tracking.cookie_name": (["", "a b", "a;b", "a=b", "é"], ["aff", "__aff-code"]),
    "tracking.cookie_domain": (["bad domain", ".shop.example; Secure", ".", "a..b", "-a.b"],
                               [".shop.example", "shop.example", "localhost"]),
    "tracking.default_url": (["javascript:alert(1)", "https://", "https://a b/", "/relative",
                              "http://shop.example:99999/"],
                             ["http://shop.example:8080/landing?x=1"]),
    "commissions.currency": (["usd", "", "EURO", "U$D"], ["EUR"]),
    "commissions.max_saletotal": (["lots", "0", "-5", "NaN", "Infinity", "1e12"],
                                  ["0.01", "999999999999.99"]),
    "limits.storage_url": (["redis://", "http://127.0.0.1:6379", "memcached://h:11211",
                            "redis://h:99999/0", "redis+unix://"],
                           ["memory://", "redis://127.0.0.1:6379/0",
                            "rediss://:secret@cache.internal:6380/1",
                            "redis+unix:///run/redis.sock"]),
    "limits.key_prefix": (["", "a b", "x" * 65], ["shop-2", "affsrv:eu"]),
    **{f"limits.{name}": (["", "lots", "10 per fortnight", "0 per minute", "10/minute junk"],
                          ["5/second", "10 per minute; 100 per day", "1 per 2 hours"])
       for name in ("ins_failures_per_address", "ins_failures_per_account",
                    "api_key_failures_per_address", "report_key_failures_per_address",
                    "rest_key_failures_per_address", "rest_key_failures_per_key",
                    "signups_per_address")},
    "reports.shop_account": (["", "my shop", "x" * 65, "shop/1"], ["shop", "my-shop.eu_2"]),
    "mail.security": (["tls", ""], ["starttls", "ssl"]),
    "mail.from": (["", "shop", "a@b\nBcc: x@y", "a@b, c@d"],
                  ["shop@example.com", "Shop <shop@example.com>"]),
    "mail.admin": (["boss", "a@b\r\nBcc: x@y"], ["boss@shop.example"]),
    "web.secret_key": (["short", "x" * 31, "x" * 31 + "\n"], ["k" * 32]),
    "web.public_url": (["shop.example", "https://", "https://a.example/?x=1", "ftp://a.example"],
                       ["https://affiliates.shop.example", "http://127.0.0.1:8000/affsrv"]),
}


def test_every_text_rule_has_cases():
    assert set(TEXT_CASES) == set(TEXT_RULES)


@pytest.mark.parametrize("name", sorted(TEXT_RULES))
def test_a_text_value_that_cannot_work_stops_start_up_naming_the_key(name):
    section, key = name.split(".")
    var = f"AFFSRV_{section}_{key}".upper()
    bad, good = TEXT_CASES[name]
    for value in bad:
        with pytest.raises(ConfigError, match=rf"^{name}: must be "):
            load_settings(environ={var: value})
    for value in [DEFAULTS[section][key], *good]:
        assert load_settings(environ={var: value})[section][key] == value


def test_a_refused_redis_url_is_never_echoed():
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={"AFFSRV_LIMITS_STORAGE_URL": "redis://:s3cret@h:99999/0"})
    assert "limits.storage_url" in str(refused.value) and "s3cret" not in str(refused.value)


def test_a_refused_database_url_is_never_echoed():
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={"AFFSRV_DATABASE_URL": "mysql://shop:s3cret@db.internal/shop"})
    assert "s3cret" not in str(refused.value) and "database.url" in str(refused.value)


def test_a_refused_secret_key_is_never_echoed():
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={"AFFSRV_WEB_SECRET_KEY": "hunter2-too-short"})
    assert "hunter2" not in str(refused.value) and "web.secret_key" in str(refused.value)


def _cli(tmp_path, *args, **env):
    return run_affsrv(list(args), tmp_path, clean_env(**env))


def test_a_logs_folder_that_cannot_be_written_stops_start_up_naming_the_key(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where the folder should be: mkdir fails for anyone
    result = _cli(tmp_path, "affiliate", "list", AFFSRV_LOGS_DIR=str(blocker / "logs"))
    assert result.returncode == 1
    assert "configuration: logs.dir: cannot write log files in" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_bind_address_that_cannot_work(tmp_path):
    result = _cli(tmp_path, "serve", "--bind", "127.0.0.1:99999")
    assert result.returncode == 2
    assert "Invalid value for '--bind': must be HOST:PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_sqlite_folder_that_cannot_be_made_stops_start_up_naming_the_key(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = _cli(tmp_path, "affiliate", "list",
                  AFFSRV_DATABASE_URL=f"sqlite:///{blocker}/affsrv.db")
    assert result.returncode == 1
    assert (f"configuration: database.url: cannot create the SQLite database's folder "
            f"'{blocker}'") in result.stderr
    assert "Traceback" not in result.stderr

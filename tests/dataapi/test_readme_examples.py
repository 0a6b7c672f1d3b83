"""The documented JSON API examples, run as a merchant copies them: the README's "First steps"
commands, then each ``curl`` command of docs/json-api.md against `affsrv serve` (read as the
shell reads it, sent as curl sends it), each answer
checked against the answer the README prints under it (the same keys and text; ids, counts,
amounts and times of the same form)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.serving import Server, affsrv_output

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
JSON_API = (REPO / "docs" / "json-api.md").read_text(encoding="utf-8")
DOCUMENTED_BASE = "http://127.0.0.1:8000"


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _examples() -> dict[str, list[tuple[str, Any]]]:
    """Per section of docs/json-api.md, its curl commands paired with the answers printed
    in the ``json`` block that follows them."""
    examples: dict[str, list[tuple[str, Any]]] = {}
    for part in JSON_API.split("\n## ")[1:]:
        title = part.split("\n", 1)[0]
        for commands, answers in re.findall(r"```sh\n(.*?)```\n```json\n(.*?)```", part, re.S):
            calls = ["curl" + c for c in commands.split("curl")[1:]]
            documented = [json.loads(line) for line in answers.splitlines() if line.strip()]
            assert len(calls) == len(documented), (title, commands, answers)
            examples.setdefault(title, []).extend(zip(calls, documented, strict=True))
    return examples


EXAMPLES = _examples()


def _same_form(documented: Any, answered: Any, where: str = "") -> None:
    if isinstance(documented, dict):
        assert isinstance(answered, dict), (where, answered)
        assert set(answered) == set(documented), (where, sorted(answered), sorted(documented))
        for key, value in documented.items():
            _same_form(value, answered[key], f"{where}.{key}")
    elif isinstance(documented, list):
        assert isinstance(answered, list) and len(answered) == len(documented), (where, answered)
        for n, (value, got) in enumerate(zip(documented, answered, strict=True)):
            _same_form(value, got, f"{where}[{n}]")
    elif isinstance(documented, str) and re.fullmatch(r"[0-9]+", documented):
        assert isinstance(answered, str) and re.fullmatch(r"[0-9]+", answered), (where, answered)
    elif isinstance(documented, str) and re.fullmatch(r"[0-9]+\.[0-9]{2}", documented):
        assert isinstance(answered, str) and re.fullmatch(r"[0-9]+\.[0-9]{2}", answered), (
            where, answered)
    else:
        assert answered == documented, (where, answered, documented)


@pytest.fixture
def merchant(tmp_path, server_env):
    """The README's first steps: a product, Ann, Bob (17.5%) and the shop's API key."""
    affsrv_output(["db", "upgrade"], tmp_path, server_env)
    printed = []
    for line in re.findall(r"```sh\n(.*?)```", _section("First steps as a merchant"), re.S)[0]\
            .splitlines():
        args = shlex.split(line.split("#", 1)[0])
        assert args[0] == "affsrv", line
        printed.append(affsrv_output(args[1:], tmp_path, server_env))
    server = Server(tmp_path, server_env)
    yield server, printed[-1], tmp_path, server_env
    server.stop()


def _run(server: Server, key: str, command: str, **replace: str) -> Any:
    """What ``command`` (a ``curl -s URL -d 'BODY'`` line with ``$KEY`` in it) answers, read
    by the shell's rules (``shlex``), so the README's quoting is checked without curl."""
    for old, new in replace.items():
        command = command.replace(old, new)
    args = shlex.split(command.replace("$KEY", key))
    assert args[:2] == ["curl", "-s"] and args[3] == "-d" and len(args) == 5, args
    assert args[2] == f"{DOCUMENTED_BASE}/api", args[2]
    # As curl sends -d: a form content type, whatever the body is.
    answer = requests.post(f"{server.base}/api", data=args[4].encode(), timeout=10,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200, (command, answer.text)
    return answer.json()


def test_the_json_api_examples_answer_as_the_readme_shows(merchant):
    server, key, cwd, env = merchant
    (referral, referral_answer), = EXAMPLES["Referral call: count a click your shop saw"]
    (sale, sale_answer), = EXAMPLES["Commission call: record a sale"]
    (refund, refund_answer), = EXAMPLES["Refunds and chargebacks"]
    # The calls that write, in the order a shop makes them: a click, a sale, its refund.
    _same_form(referral_answer, _run(server, key, referral))
    answered = _run(server, key, sale)
    _same_form(sale_answer, answered)
    assert answered["commtotal"] == sale_answer["commtotal"]  # Bob's 17.5% of 49.90
    answered = _run(server, key, refund)
    _same_form(refund_answer, answered)
    # Another sale, approved and partly paid, so that every Data API op has something to show.
    _run(server, key, sale, **{'"ref":"1001"': '"ref":"1002"'})
    affsrv_output(["commission", "approve", "--all"], cwd, env)
    affsrv_output(["payment", "add", "--affiliate", "bob", "--method", "PayPal",
                   "--amount", "24.66"], cwd, env)
    data_ops = EXAMPLES["Data API: an affiliate's totals"]
    assert [json.loads(c.split("-d '", 1)[1].replace("'$KEY'", "k").rstrip("'\n"))["data"]["op"]
            for c, _ in data_ops] == ["info", "commissions", "payments", "referrals"]
    for command, documented in data_ops:
        _same_form(documented, _run(server, key, command), command.split('"op":"')[1][:11])

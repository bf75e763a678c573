"""Attack suite: a planted secret leaks from no output, whole, encoded or in part.

The leaks this guards against: a backend echoing ``Authorization: Basic <base64>`` back; a
token with two spaces collapsed to one by error formatting; a secret cut in two by the
2,000-character HTTP step output, the step output's tail limit or the 200-character error
snippet (the part that survived went on into ``run --json``, the DB and the exports).
"""

from __future__ import annotations

import base64
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.cli import main
from console.config import parse_config
from console.core.redact import REDACTOR
from console.engine.fleet.build import build_fleet
from console.engine.store.secrets import SecretStore
from console.plugin_api import PluginContext
from tests.loopback import Quiet, serve

PAY = "checkout:POST /pay"
TOKEN = "Zq8sK3vW9xT2mN7p"  # nothing else in these outputs looks like any part of it
SPACED = "Qv7  Lm3  Rt9  Wx5"  # a bearer token with runs of two spaces
PASSWORD = "Hj4kP9sD2fG6"
BASIC = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()


@pytest.fixture(autouse=True)
def forget_secrets() -> Iterator[None]:
    REDACTOR.clear()
    yield
    REDACTOR.clear()


def leaks(text: str | bytes) -> list[str]:
    """Which recognisable part of a planted secret ``text`` holds (6 characters or more)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    found = []
    for secret in (TOKEN, PASSWORD, BASIC, SPACED, " ".join(SPACED.split())):
        for part in (secret[:6], secret[-6:], secret):
            if part in text:
                found.append(part)
    return found


# -- error messages from a backend ---------------------------------------------------------


def _fleet_over(handler: Any, auth: dict[str, Any], env: dict[str, str]) -> Any:
    config = parse_config(
        {
            "backends": [
                {"name": "prom", "plugin": "prometheus", "url": "http://prom.test", "auth": auth}
            ]
        }
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return build_fleet(config, secrets=SecretStore(env=env), http=http, timeout=2.0), http


async def _backend_error(handler: Any, auth: dict[str, Any], env: dict[str, str]) -> str:
    fleet, http = _fleet_over(handler, auth, env)
    try:
        snap = await fleet.refresh()
    finally:
        await fleet.aclose()
        await http.aclose()
    (status,) = [b for b in snap.backends if b.name == "prom"]
    assert status.error, status
    return status.error


BASIC_AUTH = {"basic": {"username": "alice", "password": {"secret": "prom-pass"}}}
BASIC_ENV = {"CALLBOARD_SECRET_PROM_PASS": PASSWORD}


async def test_basic_auth_echoed_back_as_base64_is_redacted() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        sent = request.headers["authorization"].split()[1]  # only the base64, no header name
        return httpx.Response(500, json={"status": "error", "error": f"upstream rejected {sent}"})

    error = await _backend_error(echo, BASIC_AUTH, BASIC_ENV)
    assert "upstream rejected «redacted:prom-pass»" in error
    assert leaks(error) == []


async def test_an_echoed_authorization_header_is_masked_even_when_unknown() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="debug: Cookie: sid=s3ss10n-abc; Authorization: Basic x")

    error = await _backend_error(echo, BASIC_AUTH, BASIC_ENV)
    assert "s3ss10n" not in error and "Cookie: «redacted»" in error


async def test_a_token_whose_spaces_error_formatting_collapses_is_still_redacted() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        return httpx.Response(500, json={"status": "error", "error": f"bad token {token} !"})

    error = await _backend_error(
        echo, {"bearer": {"secret": "prom-token"}}, {"CALLBOARD_SECRET_PROM_TOKEN": SPACED}
    )
    assert "bad token «redacted:prom-token» !" in error
    assert leaks(error) == []


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Callboard's log file for this test (its handler removed afterwards)."""
    from console.logsetup import LOGGER, setup_logging

    path = setup_logging(tmp_path / "callboard.log")
    assert path is not None
    yield path
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


async def test_a_secret_cut_by_the_error_snippet_leaves_no_prefix_nor_in_the_log(
    log_file: Path,
) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        return httpx.Response(500, json={"status": "error", "error": "e" * 190 + token})

    error = await _backend_error(
        echo, {"bearer": {"secret": "prom-token"}}, {"CALLBOARD_SECRET_PROM_TOKEN": TOKEN}
    )
    assert len(error) <= 260 and leaks(error) == []
    logged = log_file.read_text()
    assert "e" * 100 in logged and leaks(logged) == []


# -- a runbook run: run --json, the DB, the exports, the log -------------------------------


class _Echo(Quiet):
    """Answers with 1,994 characters then the Authorization header it got: the 2,000-character
    cut of an HTTP step's output falls six characters into the token."""

    def do_GET(self) -> None:
        token = (self.headers.get("authorization") or "").removeprefix("Bearer ")
        self.answer(("x" * 1994 + token + " tail").encode(), "text/plain")


@pytest.fixture
def echo_server() -> Iterator[str]:
    with serve(_Echo) as url:
        yield url


def cb(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_a_secret_cut_at_any_output_limit_leaks_nowhere(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    echo_server: str,
) -> None:
    monkeypatch.setenv("CALLBOARD_SECRET_API_TOKEN", TOKEN)
    db = tmp_path / "cb.db"
    # The step output keeps its last 8,000 characters: the token starts 7 characters before.
    tail = "import sys; sys.stdout.write(sys.argv[1] + 'y' * 7991)"
    rb = tmp_path / "leak.yaml"
    rb.write_text(f"""\
id: leak
title: tries to leak a secret at every cut
steps:
  - id: get
    kind: http
    method: GET
    url: "{echo_server}/status"
    headers: {{Authorization: "Bearer {{{{ secrets.api-token }}}}"}}
  - id: tail
    kind: command
    command: [{sys.executable!r}, -c, "{tail}", "{{{{ secrets.api-token }}}}"]
""")  # fmt: skip
    code, opened, _ = cb(capsys, "--db", str(db), "incident", "open", "--no-refresh",
                         "--title", "leak drill", "--function", PAY, "--json")  # fmt: skip
    assert code == 0
    iid = json.loads(opened)["id"]
    code, out, err = cb(capsys, "--db", str(db), "run", str(rb), "--function", PAY, "--json")
    steps = json.loads(out)["steps"]
    assert steps[0]["output"].endswith("…") and len(steps[0]["output"]) < 2100, steps[0]
    assert steps[1]["output"].startswith("…"), steps[1]["output"][:40]
    outputs: dict[str, str | bytes] = {"run --json": out, "stderr": err}
    outputs["runs --json"] = cb(capsys, "--db", str(db), "runs", "--json")[1]
    outputs["incident show"] = cb(capsys, "--db", str(db), "incident", "show", iid, "--json")[1]
    for fmt in ("md", "json", "csv", "html"):
        target = tmp_path / f"pm.{fmt}"
        code, _, err = cb(
            capsys, "--db", str(db), "export", iid, "--format", fmt, "-o", str(target)
        )
        assert code == 0, err
        outputs[f"export {fmt}"] = target.read_bytes()
    for f in tmp_path.glob("cb.db*"):  # the database, its WAL and shared memory
        outputs[f.name] = f.read_bytes()
    for f in (tmp_path / "xdg").rglob("*.log*"):
        outputs[f.name] = f.read_bytes()
    assert {name: leaks(text) for name, text in outputs.items() if leaks(text)} == {}


async def test_an_action_message_a_plugin_cut_does_not_end_in_half_a_secret() -> None:
    """The http actions plugin keeps 500 characters of a failed answer: the fleet's edge
    drops the part of a token left at that cut."""
    from callboard_http import HttpActionsPlugin

    from console.core.model import ActionRequest
    from console.engine.fleet.refresh import Backend, Fleet

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="z" * 494 + request.headers["authorization"])

    def secret(name: str) -> str:
        REDACTOR.add(TOKEN, name)
        return TOKEN

    endpoints = {"circuit_open": {"method": "PUT", "url": "https://mesh.test/c",
                                  "headers": {"Authorization": {"secret": "mesh"}}}}  # fmt: skip
    http = httpx.AsyncClient(transport=httpx.MockTransport(echo))
    ctx = PluginContext(http, secret, lambda: 0.0)
    plugin = HttpActionsPlugin("mesh", {"endpoints": endpoints}, ctx)
    fleet = Fleet([Backend("mesh", "http", plugin)])
    result = await fleet.execute(await fleet.plan(ActionRequest("circuit_open", PAY, {})))
    await http.aclose()
    assert not result.ok and result.message.endswith("z…")  # cut, no half marker either
    assert leaks(result.message) == []


async def test_a_grafana_error_cut_at_200_characters_keeps_no_part_of_the_token() -> None:
    """A plugin quoting a backend's answer in its own error cuts it with plugin_api.clip:
    a 400 that echoes the token right at the cut leaves no recognisable part of it."""
    from callboard_grafana import GrafanaPlugin

    from console.errors import BadResponse

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="z" * 186 + request.headers["authorization"])

    def secret(name: str) -> str:
        REDACTOR.add(TOKEN, name)
        return TOKEN

    http = httpx.AsyncClient(transport=httpx.MockTransport(echo))
    plugin = GrafanaPlugin(
        "grafana", {"url": "https://grafana.test", "token": {"secret": "g"}, "token_secret": "g"},
        PluginContext(http, secret, lambda: 0.0),
    )  # fmt: skip
    with pytest.raises(BadResponse) as err:
        await plugin._call("POST", "/api/annotations", {"text": "x"})
    await http.aclose()
    assert leaks(str(err.value)) == []

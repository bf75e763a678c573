"""Security: params never become commands, secrets never leave redacted, read-only holds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from console.cli import main
from console.core.redact import REDACTOR

PAY = "checkout:POST /pay"
SECRET = "tok-9f8e7d6c5b4a"
ECHO = "import sys, json; print(json.dumps(sys.argv[1:]))"


@pytest.fixture(autouse=True)
def forget_secrets():
    yield
    REDACTOR.clear()


def cb(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "evil", ["x; touch pwned", "$(touch pwned)", "`touch pwned` && id", "a b\nc"]
)
@pytest.mark.parametrize("form", ["list", "string"])
def test_a_param_stays_one_literal_argument(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    evil: str,
    form: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if form == "list":
        command = f"[{sys.executable!r}, -c, {ECHO!r}, '{{{{ v }}}}', 'pre-{{{{ v }}}}']"
    else:
        command = json.dumps(f"{sys.executable} -c '{ECHO}' {{{{ v }}}} 'pre-{{{{ v }}}}'")
    rb = write(
        tmp_path,
        "echo.yaml",
        f"id: echo\ntitle: e\nparams: {{v: string}}\nsteps:\n  - id: e\n    kind: command\n    command: {command}\n",
    )
    code, out, _ = cb(
        capsys,
        "--db",
        str(tmp_path / "db"),
        "run",
        str(rb),
        "--function",
        PAY,
        "--param",
        f"v={evil}",
        "--json",
    )
    assert code == 0, out
    argv = json.loads(json.loads(out)["steps"][0]["output"])
    assert argv == [evil, f"pre-{evil}"]
    assert not (tmp_path / "pwned").exists()


def test_a_secret_never_reaches_output_store_or_events(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLBOARD_SECRET_API_TOKEN", SECRET)
    db = tmp_path / "cb.db"
    rb = write(
        tmp_path,
        "leak.yaml",
        f"""\
id: leak
title: tries to leak a secret
steps:
  - id: echo
    kind: command
    command: [{sys.executable!r}, -c, "import sys; print('token=' + sys.argv[1])", "{{{{ secrets.api-token }}}}"]
  - id: tell
    kind: note
    text: "the token is {{{{ secrets.api-token }}}}"
  - id: fail
    kind: command
    command: [{sys.executable!r}, -c, "import sys; sys.exit('bad ' + sys.argv[1])", "{{{{ secrets.api-token }}}}"]
""",
    )
    code, out, err = cb(capsys, "--db", str(db), "run", str(rb), "--function", PAY, "--json")
    assert code == 1
    steps = json.loads(out)["steps"]
    assert steps[0]["output"] == "token=«redacted:api-token»"
    assert steps[1]["output"] == "the token is «redacted:api-token»"
    assert "bad «redacted:api-token»" in steps[2]["output"]
    code, listing, _ = cb(capsys, "--db", str(db), "runs", "--json")
    for text in (out, err, listing):
        assert SECRET not in text
    for f in tmp_path.glob("cb.db*"):  # the database, its WAL and shared memory
        assert SECRET.encode() not in f.read_bytes()


def test_read_only_refuses_every_mutating_kind_and_records_the_refusal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from console.engine.store.events import EventLog
    from console.engine.store.sqlite import Store

    db = tmp_path / "cb.db"
    for kind, body in [
        ("command", f'command: [{sys.executable!r}, -c, \'open("{tmp_path}/ran", "w")\']'),
        ("http", "url: http://127.0.0.1:9/never"),
        ("action", "action: restart"),
    ]:
        rb = write(
            tmp_path,
            f"{kind}.yaml",
            f"id: ro-{kind}\ntitle: t\nsteps:\n  - id: s\n    kind: {kind}\n    {body}\n",
        )
        code, out, _ = cb(
            capsys, "--db", str(db), "--read-only", "run", str(rb), "--function", PAY, "--json"
        )
        assert code == 3, out
        doc = json.loads(out)
        assert doc["steps"][0]["status"] == "refused"
        events = [e.kind for e in EventLog(Store(db)).iter(run_id=doc["run_id"])]
        assert "step.refused" in events and "step.intent" not in events
    assert not (tmp_path / "ran").exists()

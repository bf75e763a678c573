"""Redaction: a known secret never appears in text, JSON-shaped objects or log output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from console.core import redact as redact_module
from console.core.redact import REDACTOR, RedactingFilter, Redactor


@pytest.fixture
def redactor() -> Redactor:
    r = Redactor()
    r.add("s3cr3t-token", "prom-token")
    return r


@pytest.fixture
def global_redactor() -> Iterator[Redactor]:
    REDACTOR.clear()
    yield REDACTOR
    REDACTOR.clear()


def test_known_secret_is_replaced_by_its_name(redactor: Redactor) -> None:
    assert redactor.redact("Authorization: Bearer s3cr3t-token!") == (
        "Authorization: Bearer «redacted:prom-token»!"
    )


def test_unnamed_secret_is_stars_and_short_values_are_ignored() -> None:
    r = Redactor()
    r.add("hunter22")
    r.add("abc")
    assert r.redact("pw=hunter22 abc") == "pw=*** abc"


def test_longest_secret_wins_when_one_contains_another() -> None:
    r = Redactor()
    r.add("abcd", "short")
    r.add("abcdefgh", "long")
    assert r.redact("abcdefgh abcd") == "«redacted:long» «redacted:short»"


def test_url_and_json_escaped_forms_are_redacted_too() -> None:
    r = Redactor()
    r.add('p@ss/w"rd', "db")
    assert "w" not in r.redact("https://x/?pw=p%40ss%2Fw%22rd").split("=")[1]
    assert r.redact(json.dumps({"pw": 'p@ss/w"rd'})) == '{"pw": "«redacted:db»"}'


def test_no_secrets_known_returns_the_very_same_object() -> None:
    r = Redactor()
    text, obj = "nothing to hide", {"a": ["b"]}
    assert r.redact(text) is text
    assert r.redact_obj(obj) is obj


def test_nested_objects_are_redacted_without_touching_the_original(redactor: Redactor) -> None:
    event: dict[str, Any] = {
        "action": "rollback",
        "params": {"headers": ["X-Token: s3cr3t-token"], "n": 3, "ok": None},
        "s3cr3t-token": ("s3cr3t-token", 1.5),
    }
    out = redactor.redact_obj(event)
    assert "s3cr3t-token" not in json.dumps(out)
    assert out["params"] == {"headers": ["X-Token: «redacted:prom-token»"], "n": 3, "ok": None}
    assert out["«redacted:prom-token»"] == ("«redacted:prom-token»", 1.5)
    assert event["params"]["headers"] == ["X-Token: s3cr3t-token"]


def test_module_shortcuts_use_the_process_wide_redactor(global_redactor: Redactor) -> None:
    global_redactor.add("topsecret", "x")
    assert redact_module.redact("a topsecret b") == "a «redacted:x» b"
    assert redact_module.redact_obj(["topsecret"]) == ["«redacted:x»"]


def test_log_records_are_redacted_in_message_args_and_traceback(redactor: Redactor) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(redactor))
    log = logging.getLogger("callboard.test.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("token is s3cr3t-token")
        log.warning("calling %s with %r", "https://prom", {"token": "s3cr3t-token"})
        try:
            raise RuntimeError("bad token s3cr3t-token")
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    output = stream.getvalue()
    assert "s3cr3t-token" not in output
    assert "token is «redacted:prom-token»" in output
    assert "calling https://prom with {'token': '«redacted:prom-token»'}" in output
    assert "RuntimeError: bad token «redacted:prom-token»" in output


def test_filter_uses_the_global_redactor_by_default(global_redactor: Redactor) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "pw %s", ("hunter22",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "pw hunter22"  # nothing known yet: untouched
    global_redactor.add("hunter22", "pw")
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "pw «redacted:pw»"

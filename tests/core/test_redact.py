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


# -- encodings, echoed credentials, cuts (issue 11) ----------------------------------------


def test_basic_auth_is_redacted_as_sent_base64_of_user_and_password() -> None:
    import base64

    r = Redactor()
    r.add_basic("alice", "Hj4kP9sD2fG6", "prom-pass")
    sent = base64.b64encode(b"alice:Hj4kP9sD2fG6").decode()
    assert r.redact(f"echo {sent} {sent.rstrip('=')}") == (
        "echo «redacted:prom-pass» «redacted:prom-pass»"
    )


def test_every_whitespace_run_of_a_secret_matches_any_other() -> None:
    r = Redactor()
    r.add("Qv7  Lm3  Rt9", "tok")
    for seen in (
        "Qv7 Lm3 Rt9",
        "Qv7\nLm3\t\tRt9",
        "Qv7  Lm3  Rt9",
        "Qv7+Lm3+Rt9",
        "Qv7%20%20Lm3%20%20Rt9",
    ):
        assert r.redact(f"[{seen}]") == "[«redacted:tok»]", seen


def test_credential_headers_echoed_back_are_masked_without_knowing_the_value() -> None:
    r = Redactor()
    text = r.redact(
        'Authorization: Bearer abc.def.123\nSet-Cookie: sid=42; Path=/\n{"X-Api-Key": "k-99"}'
    )
    assert "abc.def" not in text and "sid=42" not in text and "k-99" not in text
    assert text.count("«redacted»") == 3
    assert r.redact("basic information, a Bearer of news") == "basic information, a Bearer of news"


def test_clip_redacts_before_cutting_and_drops_a_partial_secret_at_the_cut() -> None:
    r = Redactor()
    r.add("Zq8sK3vW9xT2mN7p", "tok")
    # redacted first; a cut inside the «redacted:tok» marker drops the marker's half too
    assert r.clip("x" * 10 + "Zq8sK3vW9xT2mN7p", 16) == "x" * 10 + "…"
    assert r.clip("x" * 10 + "Zq8sK3vW9xT2mN7p", 40) == "x" * 10 + "«redacted:tok»"
    # Text someone already cut: half a secret is not recognisable, so the edge is dropped.
    assert r.clip("x" * 10 + "Zq8sK3vW9x", 16) == "x" * 10 + "…"
    assert r.clip("vW9xT2mN7p" + "y" * 10, 12, tail=True) == "…" + "y" * 10
    assert r.clip("short", 10) == "short"
    assert (
        r.drop_partial("said Zq8s") == "said "
        and r.drop_partial("N7p said", at_start=True) == " said"
    )

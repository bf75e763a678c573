"""The real OpenTelemetry SDK's log exporter (protobuf) sends to ``callboard otlp serve``
running as a subprocess, with records written inside a span; a JSON body of the spec's
shape goes the same way. Then ``callboard logs --trace`` finds them by trace id, a
function's logs read as a table, and ``logs --follow`` prints a record sent after it
started."""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from tests.integration.test_otlp_sdk import CLI, callboard, receiver

__all__ = ["receiver"]  # the fixture, shared with the span test

SERVICE = "it-logs"


def sdk_logs(endpoint: str) -> tuple[str, str]:
    """Records from the real SDK's logging bridge inside a span: (trace id, span id)."""
    resource = Resource.create({"service.name": SERVICE})
    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=endpoint, timeout=10))
    )
    with warnings.catch_warnings():  # the SDK's handler is deprecated in 1.45, still shipped
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(level=logging.INFO, logger_provider=provider)
    log = logging.getLogger("it.logs")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    tracer = TracerProvider(resource=resource).get_tracer("it")
    try:
        with tracer.start_as_current_span("POST /pay") as span:
            ctx = span.get_span_context()
            log.info("reserving stock")
            try:
                raise ValueError("card declined")
            except ValueError:
                log.exception("payment failed")
    finally:
        log.removeHandler(handler)
        provider.shutdown()
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def json_logs(body: str, now_ns: int, **extra: Any) -> dict[str, Any]:
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": SERVICE}}]}
    record = {
        "timeUnixNano": str(now_ns),
        "severityNumber": 13,
        "severityText": "WARN",
        "body": {"stringValue": body},
        **extra,
    }
    return {"resourceLogs": [{"resource": res, "scopeLogs": [{"logRecords": [record]}]}]}


def test_sdk_logs_are_found_by_trace_id_and_by_function(receiver: tuple[Path, str]) -> None:
    db, url = receiver
    logs_url = url.replace("/v1/traces", "/v1/logs")
    trace_id, span_id = sdk_logs(logs_url)
    r = httpx.post(
        logs_url,
        json=json_logs("stock low", time.time_ns(), traceId=trace_id.upper(), spanId=span_id),
        timeout=10,
    )
    assert (r.status_code, r.json()) == (200, {})

    found = callboard(db, "logs", "--trace", trace_id, "--json")
    assert found.returncode == 0, found.stderr
    doc = json.loads(found.stdout)
    assert doc["errors"] == {}
    rows = doc["logs"]
    assert [(x["severity"], x["body"].split("\n")[0]) for x in rows] == [
        ("INFO", "reserving stock"),
        ("ERROR", "payment failed"),
        ("WARN", "stock low"),
    ]
    assert "ValueError: card declined" in rows[1]["attributes"]["exception.stacktrace"]
    assert all(x["span_id"] == span_id and x["service"] == SERVICE for x in rows)
    assert rows[0]["time"].endswith("Z") and rows[0]["source"] == "otlp"

    errors = callboard(db, "logs", SERVICE, "--errors", "--json")
    assert [x["body"] for x in json.loads(errors.stdout)["logs"]] == ["payment failed"]
    by_span = callboard(db, "logs", "--span", span_id.upper(), "--json", "--limit", "1")
    assert [x["body"] for x in json.loads(by_span.stdout)["logs"]] == ["stock low"]

    table = callboard(db, "logs", f"{SERVICE}:POST /pay")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert any("ERROR" in line and "payment failed" in line for line in lines)
    assert all(len(line) <= 80 for line in lines)  # piped: an 80-column table

    assert callboard(db, "logs").returncode == 2
    assert callboard(db, "logs", "--trace", "xyz").returncode == 2
    assert callboard(db, "logs", SERVICE, "--since", "0s").returncode == 2


def follow_json(db: Path) -> subprocess.Popen[str]:
    """``callboard logs SERVICE --follow --json`` running, its output piped."""
    return subprocess.Popen(
        [*CLI, "--db", str(db), "logs", SERVICE, "--follow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def test_follow_prints_a_record_sent_after_it_started(receiver: tuple[Path, str]) -> None:
    db, url = receiver
    logs_url = url.replace("/v1/traces", "/v1/logs")
    r = httpx.post(logs_url, json=json_logs("early bird", time.time_ns()), timeout=10)
    assert r.status_code == 200
    proc = follow_json(db)
    try:
        assert proc.stdout is not None
        stdout = proc.stdout

        def read_until(text: str) -> dict[str, Any]:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                ready, _, _ = select.select([stdout], [], [], 5)
                line = stdout.readline() if ready else ""
                if text in line:
                    found: dict[str, Any] = json.loads(line)
                    return found
            raise AssertionError(f"{text!r} not printed within 60s")

        assert read_until("early bird")["body"] == "early bird"  # the first answer: it follows now
        r = httpx.post(logs_url, json=json_logs("late arrival", time.time_ns()), timeout=10)
        assert r.status_code == 200
        late = read_until("late arrival")
        assert (late["severity"], late["service"]) == ("WARN", SERVICE)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err


def test_follow_ends_when_its_reader_goes_away(receiver: tuple[Path, str]) -> None:
    db, url = receiver
    logs_url = url.replace("/v1/traces", "/v1/logs")
    r = httpx.post(logs_url, json=json_logs("first", time.time_ns()), timeout=10)
    assert r.status_code == 200
    proc = follow_json(db)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready and "first" in proc.stdout.readline()
        proc.stdout.close()  # `| head -1`: the reader is gone
        r = httpx.post(logs_url, json=json_logs("nobody reads this", time.time_ns()), timeout=10)
        assert r.status_code == 200
        code = proc.wait(timeout=60)  # the next record's write finds the pipe closed
    finally:
        if proc.poll() is None:
            proc.kill()
        assert proc.stderr is not None
        err = proc.stderr.read()
        proc.stderr.close()
        proc.wait()
    assert code == 0 and "Traceback" not in err

"""A real OpenTelemetry SDK app exports over OTLP/HTTP (protobuf) to ``callboard otlp serve``
running as a subprocess; a JSON payload with uppercase hex ids goes the same way. Then
``callboard traces`` and ``callboard trace --json`` find them, with the right first error."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "console.cli"]
SERVICE = "it-checkout"


def callboard(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    db = tmp_path / "store.db"
    proc = subprocess.Popen(
        [*CLI, "--db", str(db), "otlp", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)  # bounded wait for the first line
        assert ready, "otlp serve printed nothing within 30s"
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line + (
            proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
        )
        url = line.split("listening on ")[1].split()[0]
        yield db, url
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "stopped:" in out


def sdk_app(url: str) -> dict[str, str]:
    """Spans from the real SDK; returns span name → hex span id, and the trace id."""
    exporter = OTLPSpanExporter(endpoint=url, timeout=10)
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("it")
    ids: dict[str, str] = {}
    with tracer.start_as_current_span("POST /pay", kind=SpanKind.SERVER) as root:
        ids["trace"] = format(root.get_span_context().trace_id, "032x")
        ids["POST /pay"] = format(root.get_span_context().span_id, "016x")
        root.set_status(Status(StatusCode.ERROR, "500"))
        with tracer.start_as_current_span("charge card", kind=SpanKind.CLIENT) as charge:
            ids["charge card"] = format(charge.get_span_context().span_id, "016x")
            charge.set_status(Status(StatusCode.ERROR, "payment provider failed"))
            with tracer.start_as_current_span("db query") as q:
                ids["db query"] = format(q.get_span_context().span_id, "016x")
                q.set_attribute("db.system", "postgresql")
                q.set_status(Status(StatusCode.ERROR, "deadlock detected"))
        with tracer.start_as_current_span("audit") as audit:  # a later, unrelated error
            ids["audit"] = format(audit.get_span_context().span_id, "016x")
            audit.set_status(Status(StatusCode.ERROR, "audit log full"))
    provider.shutdown()
    return ids


def json_payload(now_ns: int) -> dict[str, Any]:
    def span(sid: str, parent: str | None, name: str, offset_ms: int, code: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": sid,
            "name": name,
            "kind": 2,
            "startTimeUnixNano": str(now_ns + offset_ms * 10**6),
            "endTimeUnixNano": str(now_ns + (offset_ms + 5) * 10**6),
            "status": {"code": code},
        }
        if parent:
            out["parentSpanId"] = parent
        return out

    res = {"attributes": [{"key": "service.name", "value": {"stringValue": SERVICE}}]}
    spans = [
        span("EEE19B7EC3C1B174", None, "GET /cart", 0, 2),
        span("EEE19B7EC3C1B175", "EEE19B7EC3C1B174", "load cart", 1, 2),
        span("EEE19B7EC3C1B176", "EEE19B7EC3C1B174", "render", 2, 1),
    ]
    return {
        "resourceSpans": [
            {"resource": res, "scopeSpans": [{"scope": {"name": "x"}, "spans": spans}]}
        ]
    }


def test_sdk_and_json_spans_reach_traces_and_trace(receiver: tuple[Path, str]) -> None:
    db, url = receiver
    ids = sdk_app(url)
    r = httpx.post(url, json=json_payload(time.time_ns() - 10**9), timeout=10)
    assert (r.status_code, r.json()) == (200, {})

    listed = callboard(db, "traces", SERVICE, "--errors", "--json", "--since", "1h")
    assert listed.returncode == 0, listed.stderr
    rows = {t["trace_id"]: t for t in json.loads(listed.stdout)["traces"] if t["source"] == "otlp"}
    sdk = rows[ids["trace"]]
    assert (sdk["root_service"], sdk["root_name"], sdk["span_count"], sdk["error_count"]) == (
        SERVICE,
        "POST /pay",
        4,
        4,
    )
    assert sdk["duration_ms"] > 0 and sdk["start"].endswith("Z")
    assert rows["5b8efff798038103d269b633813fc60c"]["error_count"] == 2

    shown = callboard(db, "trace", ids["trace"], "--json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert (
        doc["first_error_span_id"] == ids["db query"]
    )  # not its failing parents, not the later audit
    spans = {s["name"]: s for s in doc["spans"]}
    assert spans["db query"]["parent_id"] == ids["charge card"]
    assert spans["db query"]["attributes"] == {"db.system": "postgresql"}
    assert spans["charge card"]["kind"] == "client" and spans["POST /pay"]["parent_id"] is None
    assert all(s["status"] == "error" and s["duration_ns"] > 0 for s in doc["spans"])

    upper = callboard(db, "trace", "5B8EFFF798038103D269B633813FC60C", "--json")
    doc = json.loads(upper.stdout)
    assert doc["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert doc["first_error_span_id"] == "eee19b7ec3c1b175"

    text = callboard(db, "trace", ids["trace"])
    assert text.returncode == 0 and "first error" in text.stdout and "db query" in text.stdout
    assert callboard(db, "trace", "not-an-id").returncode == 2
    assert callboard(db, "trace", "1" * 32).returncode == 1

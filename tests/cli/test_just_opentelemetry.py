"""Issue 15, done when: a service instrumented only with the OpenTelemetry SDK, pointed at
Callboard with the two environment variables the README gives (no Prometheus, no config
beyond ``otlp.enabled``), shows in the fleet with its success rate, latency, rate, burn
rates once the windows have filled, failure modes, its traces and its logs.

The receiver is the console's own child process (``ReceiverProcess``) writing the store
file; ``status --json`` and ``traces`` read it as a user would run them. The windows are
filled with pre-aged tallies of the same function (three days of its spans), not by
waiting."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import warnings
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from console.cli import main
from console.core.model import Span
from console.engine.otlp.health import HealthStore
from console.engine.store.sqlite import Store
from console.tui.receiver import ReceiverProcess

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
FID = "shop:POST /buy"


def the_service(n: int = 600) -> set[str]:
    """The service: the SDK alone, configured by the environment (endpoint and protocol);
    each failed request logs an error inside its span. Returns those requests' trace ids."""
    resource = Resource.create({"service.name": "shop"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter()))
    with warnings.catch_warnings():  # the SDK's handler is deprecated in 1.45, still shipped
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(level=logging.INFO, logger_provider=logger_provider)
    log = logging.getLogger("shop.buy")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    failed: set[str] = set()
    reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=3_600_000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    duration = meter_provider.get_meter("shop").create_histogram(
        "http.server.request.duration", unit="s", explicit_bucket_boundaries_advisory=BOUNDS_S
    )
    tracer = tracer_provider.get_tracer("shop")
    for i in range(n):
        code = 429 if i % 20 == 0 else 500 if i % 50 == 1 else 200  # 5% throttled, 2% 5xx
        attrs: dict[str, str | int] = {"http.request.method": "POST", "http.route": "/buy",
                 "http.response.status_code": code}  # fmt: skip
        with tracer.start_as_current_span("POST /buy", kind=SpanKind.SERVER, attributes=attrs) as s:
            if code == 500:
                s.set_status(Status(StatusCode.ERROR))
                log.error("payment provider refused the charge")
                failed.add(format(s.get_span_context().trace_id, "032x"))
        duration.record(0.04, attrs)
    tracer_provider.force_flush()
    meter_provider.force_flush()
    tracer_provider.shutdown()
    meter_provider.shutdown()  # no export at exit, after the receiver is gone
    log.removeHandler(handler)
    logger_provider.shutdown()
    return failed
    tracer_provider.shutdown()
    meter_provider.shutdown()


def three_days_of_it(now: float) -> list[Span]:
    """The same function's earlier traffic: 4 requests a minute for 3 days and an hour,
    2% of them 5xx."""
    out = []
    for m in range(1, 3 * 1440 + 60):
        for k in range(4):
            end = now - m * 60 + k * 10
            err = (m * 4 + k) % 50 == 0
            attrs: dict[str, str | int] = {"http.request.method": "POST", "http.route": "/buy",
                     "http.response.status_code": 500 if err else 200}  # fmt: skip
            out.append(
                Span(
                    f"{m:024x}{k:08x}",
                    f"{m:012x}{k:04x}",
                    None,
                    "shop",
                    "POST /buy",
                    int((end - 0.04) * 1e9),
                    40_000_000,
                    kind="server",
                    status="error" if err else "unset",
                    attributes=attrs,
                )
            )
    return out


def readme_env() -> dict[str, str]:
    """The environment variables the README's "Just OpenTelemetry" section sets."""
    section = README[README.index("## Just OpenTelemetry") :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    found = dict(re.findall(r"(OTEL_EXPORTER_OTLP_[A-Z_]+)=([^\s`]+)", section))
    assert set(found) == {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL"}
    return found


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    doc: dict = json.loads(out)
    return doc


def test_an_sdk_only_service_shows_in_the_fleet_with_health_burn_rates_and_traces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "cb.db"
    cfg = tmp_path / "config.yaml"
    cfg.write_text("otlp:\n  enabled: true\n")
    env = readme_env()
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    Store(db).open()  # migrated once, before the child and this test share it

    async def receive() -> None:
        rx = ReceiverProcess(str(db), "127.0.0.1", 0, max_spans=100_000, max_age_s=86400.0)
        _, port = await rx.start()
        try:
            monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
            monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", env["OTEL_EXPORTER_OTLP_PROTOCOL"])
            failed_traces.update(await asyncio.to_thread(the_service))
        finally:
            await rx.stop()

    failed_traces: set[str] = set()
    asyncio.run(receive())
    store = Store(db)
    HealthStore(store).add_spans(three_days_of_it(time.time()))
    store.close()

    args = ["--config", str(cfg), "--db", str(db)]
    doc = run([*args, "status", "--json"], capsys)
    # the service is the fleet: no demo functions beside it, no backend but the embedded one
    assert [x["id"] for x in doc["functions"]] == [FID]
    assert [b["plugin"] for b in doc["backends"]] == ["otlp"]
    f = doc["functions"][0]
    s = f["signals"]
    assert f["service"] == "shop" and f["kind"] == "http"
    assert s["success_rate"] == pytest.approx(0.98, abs=0.01)  # from the SDK's metrics
    assert s["throttle_rate"] == pytest.approx(0.05, abs=0.01)
    assert s["rate_rps"] > 0 and 25 < s["p99_ms"] <= 50
    for w in ("5m", "1h", "6h", "3d"):  # 2% errors against a 99.9% objective: 20×
        assert s[f"burn_rate_{w}"] == pytest.approx(20, rel=0.25), w
    assert f["burn"]["page"] is True
    assert "F2" in {x["mode"] for x in f["findings"]}

    found = run([*args, "traces", FID, "--json"], capsys)
    assert found["traces"] and all(t["root_service"] == "shop" for t in found["traces"])
    failed = run([*args, "traces", FID, "--errors", "--json"], capsys)
    assert failed["traces"] and all(t["error_count"] for t in failed["traces"])

    # its logs: the function's, errors only, each one inside a failed request's trace
    logs = run([*args, "logs", FID, "--errors", "--json"], capsys)
    assert len(logs["logs"]) == len(failed_traces) == 12  # i % 50 == 1 of 600
    assert {x["trace_id"] for x in logs["logs"]} == failed_traces
    assert {x["severity"] for x in logs["logs"]} == {"ERROR"}
    one = sorted(failed_traces)[0]
    by_trace = run([*args, "logs", "--trace", one, "--json"], capsys)
    assert [x["body"] for x in by_trace["logs"]] == ["payment provider refused the charge"]

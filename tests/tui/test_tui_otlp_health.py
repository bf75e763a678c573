"""The console, as shipped (its receiver in a child process): a service instrumented only
with the OpenTelemetry SDK sends metrics to it, and its function appears in the fleet
table with the success rate the load had."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from console.context import AppContext
from console.tui.app import CallboardApp
from console.tui.widgets.fleet_table import FleetTable

SIZE = (160, 45)
BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def the_service(port: int) -> None:
    exporter = OTLPMetricExporter(endpoint=f"http://127.0.0.1:{port}/v1/metrics")
    provider = MeterProvider(
        resource=Resource.create({"service.name": "shop"}),
        metric_readers=[PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)],
    )
    h = provider.get_meter("shop").create_histogram(
        "http.server.request.duration", unit="s", explicit_bucket_boundaries_advisory=BOUNDS_S
    )
    for i in range(400):
        code = 503 if i % 20 == 0 else 200  # 95.0% success
        h.record(0.03, {"http.request.method": "GET", "http.route": "/cart",
                        "http.response.status_code": code})  # fmt: skip
    provider.force_flush()
    provider.shutdown()


async def test_an_sdk_service_appears_in_the_fleet_with_its_success_rate(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"otlp: {{enabled: true, host: 127.0.0.1, port: {free_port()}}}\n")
    ctx = AppContext(config_path=str(cfg), demo=True, db_path=str(tmp_path / "cb.db"))
    app = CallboardApp(ctx.fleet(), refresh_interval=3600, context=ctx, store=ctx.store)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.receiver is not None
        await asyncio.to_thread(the_service, app.receiver.port)
        app.action_refresh_now()
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen_stack[0].query_one(FleetTable)
        assert "shop:GET /cart" in table.rows
        cells = " ".join(c.plain for c in table.get_row("shop:GET /cart"))
        assert "95.0" in cells, cells
    ctx.close()

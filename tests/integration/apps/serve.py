"""Run one small web app instrumented by a real exporter library, with its defaults.

``python -m tests.integration.apps.serve KIND PORT`` serves, on 127.0.0.1:PORT, the same
four routes and ``/metrics``:

- ``GET /pay?code=N``, ``GET /login?code=N``, ``GET /orders/<id>?code=N``: answer ``N``;
- ``GET /slow``: answers 200 after :data:`SLOW_S` seconds.

KIND is one of :data:`KINDS`. Each kind runs in its own process: the libraries keep
global registries, and the OpenTelemetry semconv mode comes from the environment
(``OTEL_SEMCONV_STABILITY_OPT_IN=http`` for ``otel_new``), read once at start-up.
"""

from __future__ import annotations

import sys
import time
from typing import Any

SLOW_S = 1.2
KINDS = ("fastapi", "flask", "otel_old", "otel_new", "client")


def _code(raw: str | None) -> int:
    try:
        code = int(raw or 200)
    except ValueError:
        return 400
    return code if 200 <= code <= 599 else 400


def fastapi_app() -> Any:
    """FastAPI + prometheus-fastapi-instrumentator, defaults (``status="2xx"`` grouped)."""
    from fastapi import FastAPI, Response
    from prometheus_fastapi_instrumentator import Instrumentator

    app = FastAPI()

    @app.get("/pay")
    def pay(code: str = "200") -> Response:
        return Response(status_code=_code(code))

    @app.get("/login")
    def login(code: str = "200") -> Response:
        return Response(status_code=_code(code))

    @app.get("/orders/{order_id}")
    def orders(order_id: str, code: str = "200") -> Response:
        return Response(status_code=_code(code))

    @app.get("/slow")
    def slow() -> Response:
        time.sleep(SLOW_S)  # the route under test is slow: that is its latency
        return Response(status_code=200)

    Instrumentator().instrument(app).expose(app)
    return app


def flask_app(instrument: str) -> Any:
    """A Flask app; ``instrument`` says which library instruments it."""
    from flask import Flask, Response, request

    app = Flask(__name__)

    @app.get("/pay")
    def pay() -> Response:
        return Response(status=_code(request.args.get("code")))

    @app.get("/login")
    def login() -> Response:
        return Response(status=_code(request.args.get("code")))

    @app.get("/orders/<order_id>")
    def orders(order_id: str) -> Response:
        return Response(status=_code(request.args.get("code")))

    @app.get("/slow")
    def slow() -> Response:
        time.sleep(SLOW_S)  # the route under test is slow: that is its latency
        return Response(status=200)

    if instrument == "flask":
        from prometheus_flask_exporter import PrometheusMetrics

        PrometheusMetrics(app)  # defaults: /metrics, path label = the concrete URL
    elif instrument.startswith("otel"):
        _otel(app)
    else:
        _client(app)
    return app


def _otel(app: Any) -> None:
    """OpenTelemetry SDK, Flask instrumentation, exporter-prometheus on /metrics."""
    from flask import Response
    from opentelemetry import metrics
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.sdk.metrics import MeterProvider
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    metrics.set_meter_provider(MeterProvider(metric_readers=[PrometheusMetricReader()]))

    @app.get("/metrics")
    def metrics_page() -> Response:
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    FlaskInstrumentor().instrument_app(app, excluded_urls="metrics")


def _client(app: Any) -> None:
    """prometheus_client by hand, with the names its documentation suggests."""
    from flask import Response, g, request
    from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

    requests = Counter("http_requests_total", "HTTP requests", ["method", "handler", "code"])
    latency = Histogram("http_request_duration_seconds", "Latency", ["method", "handler"])

    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def count(resp: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule else "unknown"
        if rule != "/metrics":
            requests.labels(request.method, rule, str(resp.status_code)).inc()
            latency.labels(request.method, rule).observe(time.perf_counter() - g.started)
        return resp

    @app.get("/metrics")
    def metrics_page() -> Response:
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)


def main(argv: list[str]) -> None:
    kind, port = argv[0], int(argv[1])
    if kind not in KINDS:
        raise SystemExit(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "fastapi":
        import uvicorn

        uvicorn.run(fastapi_app(), host="127.0.0.1", port=port, log_level="warning")
        return
    from werkzeug.serving import make_server

    make_server("127.0.0.1", port, flask_app(kind), threaded=True).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])

"""The metric conventions Callboard recognises, one small table each. Pure data, no I/O.

Each row says where a library puts the request count (a counter, or a histogram's
``_count``, that carries the status code and the route), its latency histogram and unit,
and which labels hold each identity role (first one present wins). The names were read
from each library's own source or measured against it (``source``). Discovery
(:func:`pick`) gives each Prometheus job the first convention, in this order, whose
request metric that job exposes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Convention:
    """Where one library's HTTP server metrics live."""

    name: str
    library: str
    requests: str
    buckets: str | None
    unit: str
    labels: Mapping[str, tuple[str, ...]]
    source: str
    #: ``delta`` where the route label holds concrete URLs by default: each URL's series
    #: often gets its only request before its first scrape, which ``rate()`` cannot see.
    counting: str = "rate"
    #: Collapse concrete URLs in the route (:mod:`.routes`); off where the route label is a
    #: template by specification (OTel ``http.route``, Micrometer ``uri``).
    collapse: bool = True


CONVENTIONS: tuple[Convention, ...] = (
    Convention(
        name="otel-http",
        library="OpenTelemetry HTTP semantic conventions (stable; SDK with "
        "OTEL_SEMCONV_STABILITY_OPT_IN=http, or a Collector)",
        requests="http_server_request_duration_seconds_count",
        buckets="http_server_request_duration_seconds_bucket",
        unit="s",
        labels={
            "service": ("service_name", "job"),
            "route": ("http_route",),
            "method": ("http_request_method",),
            "code": ("http_response_status_code",),
        },
        source="opentelemetry-exporter-prometheus 0.66b1 measured (shared/BACKENDS.md)",
        collapse=False,
    ),
    Convention(
        name="otel-http-old",
        library="OpenTelemetry SDK + opentelemetry-exporter-prometheus, default (old) semconv",
        requests="http_server_duration_milliseconds_count",
        buckets="http_server_duration_milliseconds_bucket",
        unit="ms",
        labels={
            "service": ("service_name", "job"),
            "route": ("http_route", "http_target"),
            "method": ("http_method",),
            "code": ("http_status_code",),
        },
        source="opentelemetry-exporter-prometheus 0.66b1 measured (shared/BACKENDS.md)",
    ),
    Convention(
        name="micrometer",
        library="Spring Boot Actuator / Micrometer (http.server.requests)",
        requests="http_server_requests_seconds_count",
        buckets="http_server_requests_seconds_bucket",
        unit="s",
        labels={
            "service": ("application", "job"),
            "route": ("uri",),
            "method": ("method",),
            "code": ("status",),
        },
        source="Spring Boot docs, http.server.requests tags uri, method, status, outcome",
        collapse=False,
    ),
    Convention(
        name="prometheus-flask-exporter",
        library="prometheus-flask-exporter (defaults: concrete URL in path)",
        # flask_http_request_total has no path label: the histogram's _count has it
        requests="flask_http_request_duration_seconds_count",
        buckets="flask_http_request_duration_seconds_bucket",
        unit="s",
        labels={
            "service": ("job",),
            "route": ("url_rule", "endpoint", "path"),
            "method": ("method",),
            "code": ("status",),
        },
        source="prometheus_flask_exporter/__init__.py 0.23.2 (group_by label, default path)",
        counting="delta",
    ),
    Convention(
        name="starlette-exporter",
        library="starlette_exporter",
        requests="starlette_requests_total",
        buckets="starlette_request_duration_seconds_bucket",
        unit="s",
        labels={
            "service": ("app_name", "job"),
            "route": ("path",),
            "method": ("method",),
            "code": ("status_code",),
        },
        source="stephenhillier/starlette_exporter starlette_exporter/middleware.py",
    ),
    Convention(
        name="prometheus-client",
        library="prometheus_client by hand, and prometheus-fastapi-instrumentator "
        "(handler, method, status grouped as 2xx/4xx/5xx)",
        requests="http_requests_total",
        buckets="http_request_duration_seconds_bucket",
        unit="s",
        labels={
            "service": ("service", "job"),
            "route": ("handler", "route", "endpoint", "path"),
            "method": ("method",),
            "code": ("code", "status", "status_code"),
        },
        source="prometheus_fastapi_instrumentator/metrics.py 8.1.0 default(); "
        "prometheus_client docs",
    ),
)

BY_NAME: Mapping[str, Convention] = {c.name: c for c in CONVENTIONS}
#: Aliases accepted in ``preset:``.
ALIASES: Mapping[str, str] = {
    "prometheus-fastapi-instrumentator": "prometheus-client",
    "spring-boot": "micrometer",
}


def request_metrics() -> tuple[str, ...]:
    """Every convention's request metric, for the one discovery query."""
    return tuple(dict.fromkeys(c.requests for c in CONVENTIONS))


def pick(found: Iterable[tuple[str, str]]) -> dict[str, Convention]:
    """Each job's convention from ``(job, metric name)`` pairs: the first, in table order,
    whose request metric the job exposes. Jobs with none are left out."""
    metrics: dict[str, set[str]] = {}
    for job, name in found:
        metrics.setdefault(job, set()).add(name)
    out = {}
    for job in sorted(metrics):
        for conv in CONVENTIONS:
            if conv.requests in metrics[job]:
                out[job] = conv
                break
    return out

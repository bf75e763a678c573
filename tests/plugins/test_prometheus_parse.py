"""Prometheus payload mapping and PromQL generation (pure, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from callboard_prometheus import parse, queries

from console.errors import BadResponse, ConfigError


def vec(*rows: tuple[dict[str, str], str], warnings: list[str] | None = None) -> dict:
    payload: dict = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": m, "value": [1.7e9, v]} for m, v in rows],
        },
    }
    if warnings:
        payload["warnings"] = warnings
    return payload


def ident(
    service: str, route: str = "", method: str = "", code: str = "", **extra: str
) -> dict[str, str]:
    d = {"cb_service": service, "cb_route": route, "cb_method": method, "cb_code": code, **extra}
    return {k: v for k, v in d.items() if v}


def signals_for(req_payload: dict, lat_payload: dict | None = None) -> dict:
    rows, _ = parse.vector_rows(parse.envelope(req_payload)[0])
    lat = parse.vector_rows(parse.envelope(lat_payload)[0])[0] if lat_payload else []
    counts = parse.count_rows(rows)
    wanted = [k for k in counts if isinstance(k, str)]
    return parse.build_signals(wanted, counts, parse.latency_rows(lat, "s"), {}, ())


def test_matrix_fixture(fixtures_dir: Path) -> None:
    payload = json.loads((fixtures_dir / "prometheus" / "query_range_matrix.json").read_text())
    result, warnings = parse.envelope(payload, ("matrix",))
    assert parse.matrix_points(result) == [(1620351786.0, 9223372036854.0)]
    assert warnings == []


def test_traffic_without_error_series_is_fully_successful() -> None:
    s = signals_for(vec((ident("checkout", "/cart", "GET", "200"), "4")))["checkout:GET /cart"]
    assert s.rate_rps == 4.0
    assert s.success_rate == 1.0
    assert (s.error_5xx_rate, s.throttle_rate, s.auth_error_rate) == (0.0, 0.0, 0.0)


def test_zero_traffic_has_no_success_and_no_latency() -> None:
    req = vec((ident("search", "/q", "GET", "200"), "0"))
    lat = vec((ident("search", "/q", "GET", cb_q="0.99"), "NaN"))
    s = signals_for(req, lat)["search:GET /q"]
    assert s.rate_rps == 0.0
    assert s.success_rate is None and s.p99_ms is None and s.error_5xx_rate is None


def test_classes_are_fractions_of_all_traffic() -> None:
    req = vec(
        (ident("api", "/o", "POST", "200"), "6"),
        (ident("api", "/o", "POST", "429"), "2"),
        (ident("api", "/o", "POST", "401"), "1"),
        (ident("api", "/o", "POST", "503"), "0.5"),
        (ident("api", "/o", "POST", "504"), "0.5"),
    )
    s = signals_for(req)["api:POST /o"]
    assert s.rate_rps == 10.0
    assert (s.throttle_rate, s.auth_error_rate, s.error_5xx_rate, s.timeout_rate) == (
        0.2,
        0.1,
        0.05,
        0.05,
    )
    assert s.success_rate == pytest.approx(0.9)  # only 5xx and timeouts count


def test_nan_and_inf_latency_are_no_data_and_seconds_become_ms() -> None:
    req = vec((ident("a", "/x", "GET", "200"), "1"))
    lat = vec(
        (ident("a", "/x", "GET", cb_q="0.5"), "0.0405"),
        (ident("a", "/x", "GET", cb_q="0.95"), "+Inf"),
        (ident("a", "/x", "GET", cb_q="0.99"), "NaN"),
    )
    s = signals_for(req, lat)["a:GET /x"]
    assert s.p50_ms == pytest.approx(40.5)
    assert s.p95_ms is None and s.p99_ms is None


def test_hostile_values_are_skipped_not_crashing() -> None:
    payload = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": ident("a", "/x", "GET", "200"), "value": [1, "1e999"]},
                {"metric": ident("b", "/x", "GET", "200"), "value": [1, {"x": 1}]},
                {"metric": "nope", "value": [1, "1"]},
                {"metric": ident("c", "/x", "GET", "200"), "value": "1"},
                {"metric": ident("d", "/x", "GET", "200"), "value": [1, "-5"]},
                {"metric": ident("e", "/x", "GET", "abc"), "value": [1, "3"]},
                17,
            ],
        },
    }
    rows, bad = parse.vector_rows(parse.envelope(payload)[0])
    assert bad == 4
    counts = parse.count_rows(rows)
    assert "a:GET /x" not in counts and "d:GET /x" not in counts  # inf and negative dropped
    s = parse.build_signals(["e:GET /x"], counts, {}, {}, ())["e:GET /x"]
    assert s.rate_rps == 3.0 and s.success_rate is None  # traffic, but no readable code


def test_functions_operation_and_id() -> None:
    rows = [
        (ident("checkout", "/pay", "POST"), 1.0),
        (ident("checkout", "/pay", "POST"), 1.0),
        (ident("web", "/"), 1.0),
        (ident("worker"), 1.0),
        ({"cb_route": "/orphan"}, 1.0),
    ]
    fns = parse.functions(rows, "prom")
    assert [f.id for f in fns] == ["checkout:POST /pay", "web:/", "worker"]
    assert fns[0].operation == "POST /pay" and fns[0].labels == {"route": "/pay", "method": "POST"}
    assert fns[2].operation == ""


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("200", "ok"),
        ("5xx", "5xx"),
        ("2xx", "ok"),
        ("429", "throttle"),
        ("", None),
        ("x", None),
        ("999", None),
    ],
)
def test_code_classes(code: str, cls: str | None) -> None:
    assert parse.code_class(code) == cls


def test_envelope_warnings_and_errors() -> None:
    _, warnings = parse.envelope(vec(warnings=["partial data: store-3 unavailable"]))
    assert warnings == ["partial data: store-3 unavailable"]
    err = {
        "status": "error",
        "errorType": "bad_data",
        "error": 'invalid parameter "query": parse error',
    }
    with pytest.raises(BadResponse, match=r"bad_data.*parse error"):
        parse.envelope(err)
    bads: tuple[object, ...] = (
        [],
        {"status": "success"},
        {"status": "success", "data": {"resultType": "matrix", "result": []}},
    )
    for bad in bads:
        with pytest.raises(BadResponse):
            parse.envelope(bad)


def test_burn_windows_ratios_and_requests() -> None:
    rows = [
        (ident("a", "/x", "GET", "200", cb_window="5m"), 95.0),
        (ident("a", "/x", "GET", "500", cb_window="5m"), 5.0),
        (ident("a", "/x", "GET", "200", cb_window="1h"), 1000.0),
        (ident("a", "/x", "GET", "200", cb_window="30d"), 0.0),
    ]
    s = parse.build_signals(["a:GET /x"], {}, {}, parse.burn_rows(rows), ("5m", "1h", "30d"))[
        "a:GET /x"
    ]
    assert s.error_ratio == {"5m": 0.05, "1h": 0.0}
    assert s.requests == {"5m": 100.0, "1h": 1000.0, "30d": 0.0}
    assert s.rate_rps is None and s.success_rate is None


def test_service_level_functions_get_service_totals() -> None:
    rows, _ = parse.vector_rows(
        parse.envelope(
            vec((ident("a", "/x", "GET", "200"), "3"), (ident("a", "/y", "GET", "500"), "1"))
        )[0]
    )
    s = parse.build_signals(["a"], parse.count_rows(rows), {}, {}, ())["a"]
    assert s.rate_rps == 4.0 and s.error_5xx_rate == 0.25


def test_queries_aggregate_the_fleet_and_keep_le() -> None:
    preset = queries.build_preset({"preset": "otel-http"})
    q = queries.requests_by_code(preset, "5m")
    assert q.startswith("sum by (cb_code, cb_service, cb_route, cb_method) (")
    assert "rate(http_server_request_duration_seconds_count[5m])" in q
    assert q.index("rate(") > q.index("label_replace")  # rate inside, aggregation outside
    lat = queries.latencies(preset, "5m")
    assert lat is not None and lat.count("histogram_quantile(") == 3
    assert "sum by (le, cb_service, cb_route, cb_method)" in lat
    burn = queries.burn_windows(preset, {"5m": "5m", "30d": "30d"})
    assert "increase(http_server_request_duration_seconds_count[30d])" in burn
    assert '"cb_window", "30d"' in burn


def test_prometheus_client_preset_and_overrides() -> None:
    preset = queries.build_preset({"preset": "prometheus-client", "selector": 'env="prod"'})
    q = queries.requests_by_code(preset, "1m")
    assert 'http_requests_total{env="prod"}[1m]' in q and '"handler"' in q and '"status"' in q
    custom = queries.build_preset(
        {
            "preset": "custom",
            "labels": {"service": ["app"]},
            "queries": {"requests": "sum by ($by) (rate(x[$window]))"},
        }
    )
    assert queries.requests_by_code(custom, "2m") == (
        'sum by (cb_service) (label_replace(sum by (app) (rate(x[2m])), "cb_service", "$1", '
        '"app", "(.+)"))'
    )


@pytest.mark.parametrize(
    "opts",
    [
        {"preset": "nope"},
        {"preset": "custom"},
        {"labels": {"service": ["bad-label"]}},
        {"labels": {"colour": ["x"]}},
        {"requests_metric": "bad metric"},
        {"latency_unit": "us"},
        {"selector": "{job='x'}"},
    ],
)
def test_bad_preset_config(opts: dict) -> None:
    with pytest.raises(ConfigError):
        queries.build_preset(opts)


def test_only_filters_one_function_and_escapes() -> None:
    preset = queries.build_preset({})
    q = queries.only("X", preset, {"service": 'we"ird$1', "route": "/r"})
    assert q.startswith("((X) and on (cb_service, cb_route)")
    assert '"we\\"ird$$1"' in q

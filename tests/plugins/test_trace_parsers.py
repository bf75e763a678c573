"""Every trace fixture (real upstream payloads) and hand-built Tempo payloads, span by span."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from callboard_jaeger import parse as jaeger
from callboard_tempo import parse as tempo
from callboard_zipkin import parse as zipkin

from console.core import traces
from console.core.model import Span, Trace
from console.core.otlp import parse_resource_spans
from tests.tempo_payloads import TEMPO_RESOURCE, TEMPO_SPANS, TEMPO_TID


def load(fixtures_dir: Path, name: str) -> Any:
    return json.loads((fixtures_dir / name).read_text())


def by_id(t: Trace) -> dict[str, Span]:
    return {s.span_id: s for s in t.spans}


# -- Jaeger ---------------------------------------------------------------------------------


def test_jaeger_ui_trace(fixtures_dir: Path) -> None:
    t = jaeger.parse_v1_trace(load(fixtures_dir, "jaeger/ui_trace_01.json"))
    assert t.trace_id == "00000000000000000000000000000001"
    assert len(t.spans) == 5 and len({s.span_id for s in t.spans}) == 5
    first, dup = (
        next(
            s
            for s in t.spans
            if s.attributes.get("callboard.original_span_id") is None
            and s.span_id == "0000000000000002"
        ),
        next(
            s
            for s in t.spans
            if s.attributes.get("callboard.original_span_id") == "0000000000000002"
        ),
    )
    assert (first.name, first.service, first.parent_id, first.status) == (
        "test-general-conversion",
        "service-x",
        None,
        "unset",
    )
    assert first.start_ns == 1485467191639875 * 1000 and first.duration_ns == 5000
    assert [e["name"] for e in first.events] == ["some-event", "log"]
    assert (dup.name, dup.status, dup.parent_id) == ("some-operation", "error", None)
    assert dup.attributes["javascript_limit"] == 9223372036854775222
    assert dup.attributes["blob"] == "AAAwOQ==" and dup.attributes["temperature"] == 72.5
    spans = by_id(t)
    assert (spans["0000000000000003"].service, spans["0000000000000003"].parent_id) == (
        "service-y",
        "0000000000000002",
    )
    # CHILD_OF in this trace wins over a reference into another trace and over FOLLOWS_FROM
    assert spans["0000000000000004"].parent_id == "0000000000000002"
    assert spans["0000000000000005"].parent_id == "0000000000000004"
    assert spans["0000000000000005"].duration_ns == 4000
    assert t.first_error_span_id == dup.span_id
    assert "some trace warning" in t.warnings and "some span warning" in t.warnings
    assert any("duplicate span id 0000000000000002" in w for w in t.warnings)


def test_jaeger_v1_envelope(fixtures_dir: Path) -> None:
    doc = {
        "data": [load(fixtures_dir, "jaeger/ui_trace_01.json")],
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": None,
    }
    assert [t.trace_id for t in jaeger.parse_v1_response(doc)] == [
        "00000000000000000000000000000001"
    ]
    assert jaeger.parse_v1_response({"data": None, "errors": [{"code": 404}]}) == []


def test_jaeger_api_v3_trace(fixtures_dir: Path) -> None:
    [t] = jaeger.parse_v3_traces(load(fixtures_dir, "jaeger/apiv3_get_trace.json"))
    [s] = t.spans
    assert (t.trace_id, s.span_id, s.parent_id) == (
        "00000000000000000000000000000001",
        "0000000000000002",
        None,
    )
    assert (s.name, s.kind, s.status, s.start_ns, s.duration_ns) == (
        "foobar",
        "server",
        "error",
        0,
        0,
    )
    assert s.service == "unknown_service"  # the resource has no service.name
    assert t.first_error_span_id == "0000000000000002"


def test_jaeger_api_v3_summaries(fixtures_dir: Path) -> None:
    [row] = jaeger.parse_v3_summaries(load(fixtures_dir, "jaeger/apiv3_find_trace_summaries.json"))
    assert row.trace_id == "00000000000000000000000000000001"
    assert (row.root_service, row.root_name) == ("frontend", "HTTP GET /")
    assert (row.start_ns, row.duration_ms, row.span_count, row.error_count) == (
        1_000_000_000_000,
        1000.0,
        2,
        1,
    )


# -- OTLP -----------------------------------------------------------------------------------


def test_otlp_json_example(fixtures_dir: Path) -> None:
    batch = parse_resource_spans(load(fixtures_dir, "otlp/trace.json")["resourceSpans"])
    assert batch.rejected == 0
    [s] = batch.spans
    assert s.trace_id == "5b8efff798038103d269b633813fc60c"  # uppercase hex in the payload
    assert (s.span_id, s.parent_id) == ("eee19b7ec3c1b174", "eee19b7ec3c1b173")
    assert (s.service, s.name, s.kind, s.status) == (
        "my.service",
        "I'm a server span",
        "server",
        "unset",
    )
    assert (s.start_ns, s.duration_ns) == (1544712660000000000, 1_000_000_000)
    assert s.attributes == {"my.span.attr": "some value"}
    t = traces.finalize(Trace(s.trace_id, (s,)))
    assert t.first_error_span_id is None and any("missing" in w for w in t.warnings)


def test_otlp_bad_span_is_rejected_alone() -> None:
    good = {
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "name": "ok",
    }
    bad = {"traceId": "xyz", "spanId": "EEE19B7EC3C1B175"}
    later = {
        **good,
        "spanId": "EEE19B7EC3C1B176",
        "startTimeUnixNano": "10",
        "endTimeUnixNano": "5",
    }
    batch = parse_resource_spans([{"scopeSpans": [{"spans": [good, bad, later]}]}])
    assert [s.span_id for s in batch.spans] == ["eee19b7ec3c1b174"]
    assert batch.rejected == 2 and "trace id" in batch.errors[0]


# -- Zipkin ---------------------------------------------------------------------------------


def test_zipkin_yelp_trace(fixtures_dir: Path) -> None:
    raws = load(fixtures_dir, "zipkin/yelp_trace.json")
    t = zipkin.parse_trace(raws)
    assert t is not None
    assert t.trace_id == "0000000000000000a03ee8fff1dcd9b9"  # 64-bit id, left-padded
    assert len(t.spans) == 16 and len({s.span_id for s in t.spans}) == 16
    assert not t.warnings  # no orphans, no duplicates once shared ids are split
    spans = by_id(t)
    root = spans["2e8cfb154b59a41f"]  # SERVER, shared, but no client half: keeps its id
    assert (root.parent_id, root.kind, root.service, root.start_ns, root.duration_ns) == (
        None,
        "server",
        "routing",
        1571896375237354000,
        131848000,
    )
    client = spans["f5f268651b2a2b34"]
    assert (client.kind, client.service, client.parent_id) == (
        "client",
        "yelp-main",
        "2e8cfb154b59a41f",  # as the payload says
    )
    [server] = [
        s for s in t.spans if s.attributes.get("zipkin.shared_span_id") == "f5f268651b2a2b34"
    ]
    assert (server.kind, server.service, server.parent_id) == (
        "server",
        "mobile_api",
        "f5f268651b2a2b34",
    )
    # the mobile_api calls named the shared id as parent: they ran under the server half
    nonce = next(s for s in t.spans if s.name == "set mobile_api_nonce")
    assert nonce.parent_id == server.span_id and nonce.start_ns == 1571896375302030000
    assert client.attributes["peer.service"] == "mobile_api"
    proxy = next(s for s in t.spans if s.name == "post api proxy proxy")
    assert [e["name"] for e in proxy.events] == ["py_zipkin.logging_end"]
    local = next(s for s in t.spans if s.name == "txn: user_get_basic_and_scout_info")
    [proxy_server] = [
        s for s in t.spans if s.attributes.get("zipkin.shared_span_id") == "668ed78ad94b35a1"
    ]
    assert (local.kind, local.parent_id) == ("internal", proxy_server.span_id)
    assert (
        proxy_server.parent_id == "668ed78ad94b35a1"
        and spans["668ed78ad94b35a1"].service == "unknown"
    )
    assert all(s.status == "unset" for s in t.spans) and t.first_error_span_id is None
    assert next(d for _, d in traces.flatten(t.spans)) == 0


def test_zipkin_error_tag() -> None:
    raws = [
        {
            "traceId": "a03ee8fff1dcd9b9",
            "id": "0000000000000001",
            "name": "get",
            "timestamp": 10,
            "duration": 5,
            "localEndpoint": {"serviceName": "api"},
        },
        {
            "traceId": "a03ee8fff1dcd9b9",
            "id": "0000000000000002",
            "parentId": "0000000000000001",
            "name": "db",
            "timestamp": 11,
            "duration": 2,
            "localEndpoint": {"serviceName": "api"},
            "tags": {"error": "connection reset"},
        },
    ]
    t = zipkin.parse_trace(raws)
    assert t is not None and t.first_error_span_id == "0000000000000002"
    assert by_id(t)["0000000000000002"].status_message == "connection reset"
    assert zipkin.parse_traces([raws, []])[0].trace_id == t.trace_id


# -- Tempo (hand-built per BACKENDS.md §4: gogo jsonpb) ----------------------------------------


def check_tempo(t: Trace | None) -> None:
    assert t is not None and t.trace_id == TEMPO_TID and t.source == "tempo"
    spans = by_id(t)
    root, charge, render = (
        spans["563d623c76514f8e"],
        spans["00f067aa0ba902b7"],
        spans["0000000000000002"],
    )
    assert (root.parent_id, root.kind, root.status, root.service) == (
        None,
        "server",
        "unset",
        "shop-backend",
    )
    assert (root.start_ns, root.duration_ns) == (1684778327699392724, 557_000_000)
    assert (charge.parent_id, charge.kind, charge.status, charge.status_message) == (
        "563d623c76514f8e",
        "client",
        "error",
        "deadline exceeded",
    )
    assert charge.duration_ns == 446979497 and charge.attributes["http.status_code"] == 504
    assert (render.parent_id, render.kind, render.status) == ("563d623c76514f8e", "internal", "ok")
    assert t.first_error_span_id == "00f067aa0ba902b7"


def test_tempo_v2_trace() -> None:
    doc = {
        "trace": {
            "resourceSpans": [
                {
                    "resource": TEMPO_RESOURCE,
                    "scopeSpans": [{"scope": {"name": "x"}, "spans": TEMPO_SPANS}],
                }
            ]
        },
        "metrics": {"inspectedBytes": "1234"},
    }
    check_tempo(tempo.parse_trace(doc, TEMPO_TID))


def test_tempo_v1_batches_and_partial_status() -> None:
    doc = {"batches": [{"resource": TEMPO_RESOURCE, "scopeSpans": [{"spans": TEMPO_SPANS}]}]}
    check_tempo(tempo.parse_trace(doc))
    partial = {
        "trace": {"resourceSpans": doc["batches"]},
        "status": "PARTIAL",
        "message": "too big",
    }
    t = tempo.parse_trace(partial)
    assert t is not None and any("partial" in w for w in t.warnings)
    assert tempo.parse_trace({"trace": {}}) is None


def test_tempo_search() -> None:
    doc = {
        "traces": [
            {
                "traceID": "2f3e0cee77ae5dc9c17ade3689eb2e54",
                "rootServiceName": "shop-backend",
                "rootTraceName": "update-billing",
                "startTimeUnixNano": "1684778327699392724",
                "durationMs": 557,
                "spanSets": [
                    {
                        "spans": [
                            {
                                "spanID": "563d623c76514f8e",
                                "startTimeUnixNano": "1684778327735077898",
                                "durationNanos": "446979497",
                                "attributes": [
                                    {"key": "status", "value": {"stringValue": "error"}}
                                ],
                            }
                        ],
                        "matched": 1,
                    }
                ],
            },
            {
                "traceID": "a03ee8fff1dcd9b9",
                "rootServiceName": "<root span not yet received>",
                "startTimeUnixNano": "1684778327000000000",
                "serviceStats": {"a": {"spanCount": 3, "errorCount": 1}, "b": {"spanCount": 2}},
            },
        ],
        "metrics": {"inspectedTraces": 3100},
    }
    first, second = tempo.parse_search(doc)
    assert (first.trace_id, first.root_service, first.root_name) == (
        "2f3e0cee77ae5dc9c17ade3689eb2e54",
        "shop-backend",
        "update-billing",
    )
    assert (first.start_ns, first.duration_ms, first.error_count) == (1684778327699392724, 557.0, 1)
    assert second.trace_id == "0000000000000000a03ee8fff1dcd9b9"  # leading zeros were stripped
    assert (second.root_service, second.duration_ms, second.span_count, second.error_count) == (
        "",
        0.0,
        5,
        1,
    )


def test_traceql_quotes_and_filters() -> None:
    assert (
        tempo.traceql("checkout", None, True, None)
        == '{ resource.service.name = "checkout" && status = error }'
    )
    q = tempo.traceql('we"ird\\svc', "POST /pay", False, 250)
    assert (
        q
        == '{ resource.service.name = "we\\"ird\\\\svc" && name = "POST /pay" && duration >= 250ms }'
    )

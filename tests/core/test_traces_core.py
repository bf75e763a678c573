"""Normalised trace ids, the span tree and the first error span."""

from __future__ import annotations

import pytest

from console.core import traces
from console.core.model import Span, Trace

T = "0af7651916cd43dd8448eb211c80319c"


def span(sid: str, parent: str | None, start: int, status: str = "unset", dur: int = 10) -> Span:
    return Span(
        T,
        sid.rjust(16, "0"),
        parent.rjust(16, "0") if parent else None,
        "svc",
        f"op-{sid}",
        start,
        dur,
        status=status,
    )


@pytest.mark.parametrize(
    ("raw", "enc", "want"),
    [
        ("0AF7651916CD43DD8448EB211C80319C", "auto", T),
        ("a03ee8fff1dcd9b9", "auto", "0000000000000000a03ee8fff1dcd9b9"),
        ("1", "hex", "00000000000000000000000000000001"),
        ("MUkZX/sL7AU0e0jv6OzBsA==", "auto", "3149195ffb0bec05347b48efe8ecc1b0"),
        ("MUkZX/sL7AU0e0jv6OzBsA==", "base64", "3149195ffb0bec05347b48efe8ecc1b0"),
        (bytes.fromhex(T), "auto", T),
    ],
)
def test_trace_ids_normalise_to_32_lowercase_hex(
    raw: str | bytes, enc: traces.Encoding, want: str
) -> None:
    assert traces.trace_id(raw, enc) == want


@pytest.mark.parametrize("bad", ["", "zz", "0" * 32, "0" * 33 + "1", "not base64!"])
def test_invalid_trace_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        traces.trace_id(bad)


def test_span_ids_and_parents() -> None:
    assert traces.span_id("EEE19B7EC3C1B174") == "eee19b7ec3c1b174"
    assert traces.span_id("AAAAAAAAAAI=", "base64") == "0000000000000002"
    for root in (None, "", "0000000000000000", b"", b"\0" * 8):
        assert traces.parent_id(root) is None
    with pytest.raises(ValueError):
        traces.span_id("0" * 17 + "1")


def test_first_error_is_the_deepest_error_not_the_errors_it_caused() -> None:
    # root(error) → a(error) → b(error);  root → c(error, starts later)
    spans = [
        span("1", None, 0, "error", 100),
        span("2", "1", 10, "error"),
        span("3", "2", 20, "error"),
        span("4", "1", 50, "error"),
    ]
    first = traces.first_error_span(spans)
    assert first is not None and first.span_id == "0000000000000003"


def test_first_error_among_leaves_is_the_earliest() -> None:
    spans = [
        span("1", None, 0, "ok", 100),
        span("2", "1", 30, "error"),
        span("3", "1", 20, "error"),
    ]
    assert traces.first_error_span(spans).span_id.endswith("3")  # type: ignore[union-attr]


def test_no_error_no_first_error() -> None:
    assert traces.first_error_span([span("1", None, 0, "ok")]) is None
    assert traces.finalize(Trace(T, (span("1", None, 0),))).first_error_span_id is None


def test_clock_skew_cannot_make_a_later_error_look_first() -> None:
    # a(error at 50) has child skewed(error, clock says -1000, before its parent and everything)
    # b(error at 20) is a leaf. Causally, skewed ran after a started (≥ 50), so b is first.
    spans = [
        span("1", None, 0, "ok", 100),
        span("a", "1", 50, "ok"),
        span("b", "1", 20, "error"),
        span("c", "a", -1000, "error"),
    ]
    assert traces.first_error_span(spans).span_id.endswith("b")  # type: ignore[union-attr]
    out = traces.finalize(Trace(T, tuple(spans)))
    assert any("clock skew" in w for w in out.warnings)
    assert [s.span_id for s in traces.skewed(spans)] == ["000000000000000c"]


def test_orphans_are_kept_as_roots_and_reported() -> None:
    spans = [span("1", None, 0), span("2", "99", 5, "error")]
    out = traces.finalize(Trace(T, tuple(spans)))
    assert out.first_error_span_id == "0000000000000002"
    assert [(s.span_id[-1], d) for s, d in traces.flatten(out.spans)] == [("1", 0), ("2", 0)]
    assert any("missing" in w for w in out.warnings)


def test_duplicate_ids_get_a_derived_id_and_a_warning() -> None:
    spans = [span("1", None, 0), span("1", None, 5, "error")]
    out = traces.finalize(Trace(T, tuple(spans)))
    ids = [s.span_id for s in out.spans]
    assert len(set(ids)) == 2 and out.first_error_span_id == ids[1] != "0000000000000001"
    assert any("duplicate span id" in w for w in out.warnings)


def test_parent_cycle_terminates_and_keeps_every_span() -> None:
    spans = [span("1", "2", 0, "error"), span("2", "1", 5, "error")]
    assert len(traces.flatten(spans)) == 2
    assert traces.first_error_span(spans) is not None


def test_deep_chain_needs_no_recursion() -> None:
    spans = [
        span(format(i + 1, "x"), format(i, "x") if i else None, i, "error" if i % 7 == 0 else "ok")
        for i in range(20_000)
    ]
    out = traces.finalize(Trace(T, tuple(spans)))
    depths = [d for _, d in traces.flatten(out.spans)]
    assert depths[-1] == 19_999
    assert out.first_error_span_id == format(19_999 + 1, "x").rjust(16, "0")  # the deepest error


def test_flatten_orders_children_by_start() -> None:
    spans = [span("1", None, 0), span("3", "1", 30), span("2", "1", 10), span("4", "2", 15)]
    assert [(s.span_id[-1], d) for s, d in traces.flatten(spans)] == [
        ("1", 0),
        ("2", 1),
        ("4", 2),
        ("3", 1),
    ]
    assert [s.span_id[-1] for s in traces.children_map(spans)["0000000000000001"]] == ["2", "3"]


def test_summary() -> None:
    spans = (
        span("1", None, 1_000_000, "ok", 5_000_000),
        span("2", "1", 2_000_000, "error", 1_000_000),
    )
    s = traces.summarize(Trace(T, spans, source="x"))
    assert (s.root_name, s.start_ns, s.duration_ms, s.span_count, s.error_count, s.source) == (
        "op-1",
        1_000_000,
        5.0,
        2,
        1,
        "x",
    )

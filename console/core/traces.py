"""Normalised traces: id normalisation, the span tree, the first error span, summaries.

Every trace source maps its payload to :class:`~console.core.model.Span` and then calls
:func:`finalize`, so the tree rules (orphans, clock skew, duplicate ids) and the *first error
span* are decided once, here. Everything is iterative: a 10,000-span chain must not hit
Python's recursion limit, and a parent cycle in bad data must not loop forever.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Literal

from console.core.model import Span, Trace, TraceSummary
from console.core.sanitize import clean_trace

Encoding = Literal["auto", "hex", "base64"]
_HEX = frozenset("0123456789abcdefABCDEF")
_HEX_RE = re.compile(r"[0-9a-fA-F]+")


@lru_cache(maxsize=65536)  # ids repeat: every span of a trace carries the same trace id
def _norm_id(value: str | bytes | None, width: int, encoding: Encoding, what: str) -> str:
    if value is None:
        raise ValueError(f"missing {what}")
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        text = value.strip()
        if not text:
            raise ValueError(f"empty {what}")
        is_hex = _HEX_RE.fullmatch(text) is not None
        if encoding == "hex" or (encoding == "auto" and is_hex and len(text) <= width):
            if not is_hex or len(text) > width:
                raise ValueError(f"{what} {text!r} is not hex of at most {width} digits")
            out = text.lower().rjust(width, "0")
            if out.strip("0") == "":
                raise ValueError(f"{what} is all zeros")
            return out
        try:
            padded = text + "=" * (-len(text) % 4)
            raw = base64.b64decode(
                padded, altchars=b"-_" if "-" in text or "_" in text else None, validate=True
            )
        except (binascii.Error, ValueError):
            raise ValueError(f"{what} {text!r} is neither hex nor base64") from None
    if len(raw) not in (width // 2, 8):  # full width, or a 64-bit trace id
        raise ValueError(f"{what} has {len(raw)} bytes, expected {width // 2}")
    if not any(raw):
        raise ValueError(f"{what} is all zeros")
    return raw.hex().rjust(width, "0")


def trace_id(value: str | bytes | None, encoding: Encoding = "auto") -> str:
    """A trace id as 32 lowercase hex digits (64-bit ids are left-padded with zeros).

    Accepts hex in any case, base64 (``encoding="base64"`` or a value that is not hex), or
    raw bytes. Raises ValueError for anything else, including the all-zero (invalid) id.
    """
    return _norm_id(value, 32, encoding, "trace id")


def span_id(value: str | bytes | None, encoding: Encoding = "auto") -> str:
    """A span id as 16 lowercase hex digits. Raises ValueError like :func:`trace_id`."""
    return _norm_id(value, 16, encoding, "span id")


def parent_id(value: str | bytes | None, encoding: Encoding = "auto") -> str | None:
    """A parent span id, or None for a root (absent, empty, or all zeros)."""
    if value is None or (isinstance(value, str | bytes) and not value.strip()):
        return None
    if isinstance(value, bytes) and not any(value):
        return None
    if (
        isinstance(value, str)
        and value.strip().strip("0") == ""
        and all(c in _HEX for c in value.strip())
    ):
        return None
    return span_id(value, encoding)


def derived_span_id(*parts: str) -> str:
    """A stable, made-up 16-hex span id (for duplicate or shared ids that need telling apart)."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()


# -- the tree ----------------------------------------------------------------------------


def children_map(spans: Sequence[Span]) -> dict[str | None, list[Span]]:
    """Parent id → children sorted by start; orphans and roots are under the key None."""
    ids = {s.span_id for s in spans}
    out: dict[str | None, list[Span]] = {}
    for s in spans:
        parent = s.parent_id if s.parent_id in ids and s.parent_id != s.span_id else None
        out.setdefault(parent, []).append(s)
    for kids in out.values():
        kids.sort(key=lambda s: (s.start_ns, s.span_id))
    return out


def flatten(spans: Sequence[Span]) -> list[tuple[Span, int]]:
    """Depth-first order with depths: each span once, children after their parent.

    Roots and orphans come first at depth 0; spans caught in a parent cycle (bad data) are
    appended as extra roots, so every span appears exactly once.
    """
    kids = children_map(spans)
    out: list[tuple[Span, int]] = []
    seen: set[str] = set()

    def walk(roots: Iterable[Span]) -> None:
        stack = [(s, 0) for s in reversed(list(roots))]
        while stack:
            span, depth = stack.pop()
            if span.span_id in seen:
                continue
            seen.add(span.span_id)
            out.append((span, depth))
            stack.extend((c, depth + 1) for c in reversed(kids.get(span.span_id, ())))

    walk(kids.get(None, ()))
    if len(seen) < len(spans):  # a cycle: nothing in it is reachable from a root
        for s in sorted(spans, key=lambda s: (s.start_ns, s.span_id)):
            if s.span_id not in seen:
                walk([s])
    return out


def orphans(spans: Sequence[Span]) -> list[Span]:
    """Spans whose parent is not in the trace (a lost or not yet received span)."""
    ids = {s.span_id for s in spans}
    return [s for s in spans if s.parent_id is not None and s.parent_id not in ids]


def skewed(spans: Sequence[Span]) -> list[Span]:
    """Spans that start before their parent: the two hosts' clocks disagree."""
    by_id = {s.span_id: s for s in spans}
    return [
        s
        for s in spans
        if s.parent_id in by_id
        and s.parent_id != s.span_id
        and s.start_ns < by_id[s.parent_id].start_ns
    ]


def first_error_span(spans: Sequence[Span]) -> Span | None:
    """Where the error began: an error span with no error span below it.

    If several qualify, the earliest-starting wins. Start times are compared after a
    causal correction for clock skew: a span is never considered earlier than its
    parent (its effective start is ``max(own start, parent's effective start)``), so a
    skewed host cannot make its span look first. Orphans count as roots.
    """
    if not any(s.status == "error" for s in spans):
        return None
    order = flatten(spans)
    by_id = {s.span_id: s for s in spans}
    effective: dict[str, int] = {}
    for s, _ in order:  # parents come before children
        parent = by_id.get(s.parent_id) if s.parent_id else None
        base = effective.get(parent.span_id) if parent is not None else None
        effective[s.span_id] = s.start_ns if base is None else max(s.start_ns, base)
    error_below: set[str] = set()
    kids = children_map(spans)
    for s, _ in reversed(order):  # children come before parents
        if any(c.status == "error" or c.span_id in error_below for c in kids.get(s.span_id, ())):
            error_below.add(s.span_id)
    candidates = [s for s, _ in order if s.status == "error" and s.span_id not in error_below]
    if not candidates:  # only possible inside a cycle: fall back to the earliest error
        candidates = [s for s, _ in order if s.status == "error"]
    return min(candidates, key=lambda s: (effective[s.span_id], s.start_ns, s.span_id))


def _dedupe(spans: Sequence[Span], warnings: list[str]) -> list[Span]:
    seen: set[str] = set()
    out: list[Span] = []
    for s in spans:
        if s.span_id in seen:
            new = derived_span_id(s.trace_id, s.span_id, str(len(out)))
            warnings.append(f"duplicate span id {s.span_id} ({s.name!r}) shown as {new}")
            s = replace(
                s, span_id=new, attributes={**s.attributes, "callboard.original_span_id": s.span_id}
            )
        seen.add(s.span_id)
        out.append(s)
    return out


def finalize(trace: Trace) -> Trace:
    """The trace with unique span ids, spans in tree order, warnings and the first error span,
    every string cleaned of control characters and escapes (:mod:`console.core.sanitize`).

    Duplicate span ids get a derived id (and a warning); orphans and clock skew are kept
    as they are and reported in ``warnings`` so the screen can say so.
    """
    # Every trace source passes here: span names, services, attributes and events from
    # Jaeger, Tempo, Zipkin or an OTLP client lose their control characters once, here.
    trace = clean_trace(trace)
    warnings = list(trace.warnings)
    spans = _dedupe(trace.spans, warnings)
    lost = orphans(spans)
    if lost:
        warnings.append(f"{len(lost)} span(s) reference a parent missing from the trace")
    skew = skewed(spans)
    if skew:
        warnings.append(f"{len(skew)} span(s) start before their parent (clock skew)")
    ordered = tuple(s for s, _ in flatten(spans))
    first = first_error_span(ordered)
    return replace(
        trace,
        spans=ordered,
        first_error_span_id=first.span_id if first else None,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def root_span(spans: Sequence[Span]) -> Span | None:
    """The true root (no parent), earliest first; else the earliest orphan; else None."""
    if not spans:
        return None
    roots = [s for s in spans if s.parent_id is None]
    pool = roots or children_map(spans).get(None) or list(spans)
    return min(pool, key=lambda s: (s.start_ns, s.span_id))


def summarize(trace: Trace) -> TraceSummary:
    """One search-result line for a whole trace."""
    spans = trace.spans
    root = root_span(spans)
    start = min((s.start_ns for s in spans), default=0)
    end = max((s.start_ns + s.duration_ns for s in spans), default=0)
    return TraceSummary(
        trace_id=trace.trace_id,
        root_service=root.service if root else "",
        root_name=root.name if root else "",
        start_ns=start,
        duration_ms=round((end - start) / 1e6, 3),
        span_count=len(spans),
        error_count=sum(1 for s in spans if s.status == "error"),
        source=trace.source,
    )

"""Synthetic traces whose error spans tell the same story as the failing signals.

A trace id carries everything needed to build its trace again, so ``trace(id)`` in another
process returns the same spans:

    tag(4) start-seconds(8) function-index(6) variant(1) slot(4) check(9)   (hex digits)

``tag`` ties the id to the seed; ``check`` is a hash of the rest, so a made-up id is not
mistaken for ours. The variant says which story the spans tell (healthy, the function's
failure, a rare retried blip, or a slow-but-successful failure such as a cold start).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence

from callboard_demo.fleet import Fleet
from callboard_demo.scenario import FAILURES
from callboard_demo.sim import Episode, mix64
from callboard_demo.stories import SpanBuilder, build_spans
from console.core.traces import finalize
from console.plugin_api import Function, Span, Trace, TraceQuery, TraceSummary

OK, FAILING, BLIP = 0, 1, 2
_CHECK_MASK = (1 << 36) - 1
#: Traces searched per query at most (a bound on work, whatever ``limit`` says).
MAX_CANDIDATES = 200
DEFAULT_LOOKBACK_S = 900.0


def _tag(seed: int) -> int:
    return zlib.crc32(f"callboard-demo:{seed}".encode()) & 0xFFFF


def _check(seed: int, start_s: int, index: int, variant: int, slot: int) -> int:
    key = mix64((seed << 1) ^ mix64(start_s) ^ (index << 24) ^ (variant << 20) ^ slot)
    return key & _CHECK_MASK


def encode_id(seed: int, start_s: int, index: int, variant: int, slot: int) -> str:
    """The 32-hex trace id of one synthetic trace."""
    check = _check(seed, start_s, index, variant, slot)
    return f"{_tag(seed):04x}{start_s:08x}{index:06x}{variant:01x}{slot:04x}{check:09x}"


def decode_id(seed: int, trace_id: str) -> tuple[int, int, int, int] | None:
    """(start seconds, function index, variant, slot), or None if the id is not ours."""
    tid = trace_id.strip().lower()
    if len(tid) != 32 or any(ch not in "0123456789abcdef" for ch in tid):
        return None
    if int(tid[0:4], 16) != _tag(seed):
        return None
    start_s, index, variant = int(tid[4:12], 16), int(tid[12:18], 16), int(tid[18], 16)
    slot, check = int(tid[19:23], 16), int(tid[23:32], 16)
    if check != _check(seed, start_s, index, variant, slot):
        return None
    return start_s, index, variant, slot


class TraceMaker:
    """Finds and builds the demo's traces for one fleet."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.by_index = {p.index: fid for fid, p in fleet.profiles.items()}
        self.stories = {f.function_id: f.key for f in FAILURES}

    def build(self, trace_id: str) -> Trace | None:
        """The trace ``trace_id``, or None when it is not one of ours."""
        decoded = decode_id(self.fleet.seed, trace_id)
        if decoded is None:
            return None
        start_s, index, variant, _ = decoded
        fid = self.by_index.get(index)
        if fid is None:
            return None
        fn = self.fleet.by_id[fid]
        rng = random.Random(int(trace_id[4:], 16) ^ self.fleet.seed)
        start_ns = start_s * 1_000_000_000 + rng.randrange(1_000_000_000)
        story = self.stories.get(fid) if variant == FAILING else None
        b = SpanBuilder(trace_id.lower(), rng, start_ns, self.fleet)
        build_spans(b, fn, self.fleet.profiles[fid], story, blip=variant == BLIP)
        return finalize(Trace(trace_id=trace_id.lower(), spans=tuple(b.spans), source="demo"))

    def find(
        self, query: TraceQuery, episodes: dict[str, Episode], now: float
    ) -> list[TraceSummary]:
        """Traces of the query's service (one operation, or all), newest first, errors first."""
        ids = self.fleet.services.get(query.service, [])
        fns = [self.fleet.by_id[i] for i in ids]
        if query.operation:
            fns = [f for f in fns if query.operation in (f.operation, f.id)]
        if not fns:
            return []
        end = query.end_ns / 1e9 if query.end_ns is not None else now
        start = query.start_ns / 1e9 if query.start_ns is not None else end - DEFAULT_LOOKBACK_S
        if end <= start:
            return []
        limit = max(0, query.limit)
        n = min(MAX_CANDIDATES, max(limit * 3, 12))
        step = (end - start) / (n + 1)
        found: list[TraceSummary] = []
        for k in range(n):
            fn = fns[k % len(fns)]
            t = int(end - (k + 1) * step)
            variant = self._variant(fn, k, t, episodes)
            tid = encode_id(self.fleet.seed, t, self.fleet.profiles[fn.id].index, variant, k)
            trace = self.build(tid)
            if trace is None:  # pragma: no cover - our own ids always decode
                continue
            summary = summarize(trace)
            if query.errors_only and summary.error_count == 0:
                continue
            if query.min_duration_ms is not None and summary.duration_ms < query.min_duration_ms:
                continue
            found.append(summary)
        found.sort(key=lambda s: (s.error_count == 0, -s.start_ns))
        return found[:limit]

    def _variant(self, fn: Function, slot: int, t: float, episodes: dict[str, Episode]) -> int:
        for ep in episodes.values():
            if ep.failure.function_id == fn.id and ep.active_for(t) is not None:
                return FAILING if slot % 4 != 3 else OK  # most requests hit the failure
        return BLIP if slot % 11 == 5 else OK


def summarize(trace: Trace) -> TraceSummary:
    """One search-result line for ``trace``."""
    spans: Sequence[Span] = trace.spans
    root = next((s for s in spans if s.parent_id is None), spans[0])
    end = max(s.start_ns + s.duration_ns for s in spans)
    return TraceSummary(
        trace_id=trace.trace_id,
        root_service=root.service,
        root_name=root.name,
        start_ns=root.start_ns,
        duration_ms=round((end - root.start_ns) / 1e6, 3),
        span_count=len(spans),
        error_count=sum(1 for s in spans if s.status == "error"),
        source="demo",
    )

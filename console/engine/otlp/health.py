"""Function health from what the embedded receiver gets: metric points and spans become
per-function, per-minute tallies in the store (``red_tallies``, beside ``spans``), read
back as windows.

Which metrics count (name → family, the unit assumed when the point has none):

==============================  ==========  =====  =========================================
metric                          family      unit   gives
==============================  ==========  =====  =========================================
``http.server.request.duration``  http      s      requests by status class, latency
``http.server.duration``          http      ms     the same (the older HTTP conventions)
``rpc.server.call.duration``      rpc       s      requests by gRPC status class, latency
``rpc.server.duration``           rpc       ms     the same (the older RPC conventions)
``messaging.process.duration``    messaging s      messages processed (``error.type``: failed)
``faas.invoke_duration``          faas      s      latency of a serverless function
``faas.invocations``              faas      —      requests
``faas.errors``                   faas      —      5xx-class failures (taken to include timeouts)
``faas.timeouts``                 faas      —      timeouts (F1)
``faas.coldstarts``               faas      —      cold starts (F4)
==============================  ==========  =====  =========================================

Every other metric is accepted and not kept. Spans: each SERVER and CONSUMER span is one
request of its function (:func:`console.core.red.span_tally`). A function seen both ways
is read from its metrics (a window where the metrics have no requests falls back to its
spans), so nothing is counted twice.

Temporality. A delta point counts as it is. A cumulative point counts its difference from
the stream's previous point (the stream: the metric, the resource and the attributes); a
*reset* — ``start_time_unix_nano`` changed, or the count went down — counts the new value
whole. The first point of a stream counts whole when it started at most
``first_interval_s`` (10 min) before its own time (a process that started recently: all it
counted is news); an older one only sets the baseline (it may hold days counted before
Callboard listened). A difference is spread evenly over the minutes of its interval. The
streams' last values are stored too, so a restarted receiver goes on from them.

Windows and retention: minute rows are kept 1 h 10 min, hour rows 3 days 2 hours
(``MINUTE_KEEP_S``, ``HOUR_KEEP_S``); at most once a minute of writes, what is older is
deleted by its ``(step, bucket)`` index. Windows up to 1 h are read from minute rows,
longer ones from hour rows (read again at most once a minute); a window's oldest row is
weighted by how much of it the window covers. A window gets an error ratio only from a source (metrics, else spans) that has
sent the function's data for at least that long (``red_functions.first_at``, per
source): before, its burn rate is null, not guessed.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from console.core import red
from console.core.model import BURN_WINDOWS, Function, Signals, Span
from console.core.otlp_metrics import CUMULATIVE, DELTA, Point
from console.core.slo import parse_window
from console.engine.store.sqlite import Store

#: metric name → (family, the unit assumed when a point has none)
DURATIONS: Mapping[str, tuple[str, str]] = {
    "http.server.request.duration": ("http", "s"),
    "http.server.duration": ("http", "ms"),
    "rpc.server.call.duration": ("rpc", "s"),
    "rpc.server.duration": ("rpc", "ms"),
    "messaging.process.duration": ("messaging", "s"),
    "faas.invoke_duration": ("faas", "s"),
}
FAAS_COUNTERS = ("faas.invocations", "faas.errors", "faas.timeouts", "faas.coldstarts")
#: UCUM unit → milliseconds per unit
UNITS: Mapping[str, float] = {
    "s": 1000.0,
    "ms": 1.0,
    "us": 1e-3,
    "µs": 1e-3,
    "ns": 1e-6,
    "min": 6e4,
}

MINUTE, HOUR = 60, 3600
MINUTE_KEEP_S = 3600 + 600
HOUR_KEEP_S = 3 * 86400 + 2 * 3600
#: Windows up to this long are read from minute rows.
MINUTE_WINDOWS_UP_TO_S = 3600.0
STREAM_KEEP_S = 86400.0
#: The hour-row windows are read again at most this often.
HOUR_WINDOWS_TTL_S = 60.0
_COLS = ", ".join(red.COLUMNS)
_SUMS_OF = ", ".join(f"SUM({c} * wt)" for c in red.COLUMNS)
_UPSERT = (
    f"INSERT INTO red_tallies (function_id, source, step, bucket, {_COLS}) VALUES "
    f"(?, ?, ?, ?, {', '.join('?' for _ in red.COLUMNS)}) "
    "ON CONFLICT (function_id, source, step, bucket) DO UPDATE SET "
    + ", ".join(f"{c} = red_tallies.{c} + excluded.{c}" for c in red.COLUMNS)
)
_UPSERT_FUNCTION = (
    "INSERT INTO red_functions (function_id, source, service, operation, kind, first_at, "
    "last_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (function_id, source) DO UPDATE SET "
    "first_at = CASE WHEN excluded.first_at < red_functions.first_at "
    "THEN excluded.first_at ELSE red_functions.first_at END, "
    "last_at = CASE WHEN excluded.last_at > red_functions.last_at "
    "THEN excluded.last_at ELSE red_functions.last_at END"
)
_UPSERT_STREAM = (
    "INSERT INTO red_streams (stream, start_ns, time_ns, vec, seen_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (stream) DO UPDATE SET start_ns = excluded.start_ns, "
    "time_ns = excluded.time_ns, vec = excluded.vec, seen_at = excluded.seen_at"
)

Key = tuple[str, str, int]  # function id, source, minute


@dataclass
class HealthStats:
    """What became of the points and spans handed in."""

    points_tallied: int = 0
    points_ignored: int = 0  # a metric that is not about function health
    points_baseline: int = 0  # the first point of an old cumulative stream
    points_out_of_time: int = 0  # too old for the retention, or in the future
    spans_tallied: int = 0
    functions_dropped: int = 0  # over max_functions
    dropped: set[str] = field(default_factory=set, repr=False)


@dataclass
class _Batch:
    tallies: dict[Key, list[float]] = field(default_factory=dict)
    names: dict[str, red.Identity] = field(default_factory=dict)
    seen: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    streams: dict[str, tuple[int, int, list[float]]] = field(default_factory=dict)
    #: functions admitted in this batch that the store did not know
    new: set[str] = field(default_factory=set)

    def tally(self, fid: str, source: str, minute: int) -> list[float]:
        key = (fid, source, minute)
        t = self.tallies.get(key)
        if t is None:
            t = self.tallies[key] = red.new_tally()
        return t

    def saw(self, fid: str, source: str, first: float, last: float) -> None:
        key = (fid, source)
        old = self.seen.get(key)
        self.seen[key] = (first, last) if old is None else (min(old[0], first), max(old[1], last))


def _fid(who: red.Identity) -> str:
    return Function.make_id(who[0], who[1])


def _minutes(t0: float, t1: float) -> list[tuple[int, float]]:
    """(minute, fraction) of an interval ``(t0, t1]`` in seconds; all in t1's minute when the
    interval is unknown, empty or longer than a day (a stream's clock is not to be trusted
    that far)."""
    end = int(t1 // MINUTE)
    if not t0 or t1 - t0 <= 0 or t1 - t0 > 86400:
        return [(end, 1.0)]
    start = int(t0 // MINUTE)
    if start == end:
        return [(end, 1.0)]
    width = t1 - t0
    out = []
    for m in range(start, end + 1):
        lo, hi = max(t0, m * MINUTE), min(t1, (m + 1) * MINUTE)
        if hi > lo:
            out.append((m, (hi - lo) / width))
    return out or [(end, 1.0)]


class HealthStore:
    """Tallies of function health in the store's ``red_*`` tables (see the module doc).

    Args:
        store: the store the span store uses (the tables come from its migrations).
        clock: Unix seconds (tests pass a fixed clock).
        max_functions: functions kept; a new one beyond it is not tallied (counted in
            ``stats.functions_dropped``): a sender inventing routes cannot grow the table.
        max_streams: cumulative streams remembered, each ~1 KiB in memory (beyond: a new
            stream's points are not counted; streams unseen for a day are forgotten).
        first_interval_s: see the module doc.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        max_functions: int = 10_000,
        max_streams: int = 50_000,
        first_interval_s: float = 600.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_functions = max_functions
        self.max_streams = max_streams
        self.first_interval_s = first_interval_s
        self.stats = HealthStats()
        self._streams: dict[str, tuple[int, int, list[float]]] | None = None
        self._known: set[str] | None = None
        self._pruned_at = -math.inf
        self._lock = threading.Lock()  # the receiver writes from worker threads
        #: the hour-row windows' sums, by the windows asked: (when read, rows)
        self._hour_cache: dict[Any, tuple[float, list[Any]]] = {}
        #: within one add_points: a resource's canonical text, by object (points share it)
        self._resource_keys: dict[int, tuple[Mapping[str, Any], str]] = {}

    # -- writing -------------------------------------------------------------------------

    def _load(self) -> None:
        if self._streams is None:
            rows = self.store.tuples("SELECT stream, start_ns, time_ns, vec FROM red_streams")
            self._streams = {r[0]: (int(r[1]), int(r[2]), json.loads(r[3])) for r in rows}
            self._known = {r[0] for r in self.store.tuples("SELECT function_id FROM red_functions")}

    def _admit(self, fid: str, b: _Batch) -> bool:
        assert self._known is not None
        if fid in self._known or fid in b.new:
            return True
        if len(self._known) + len(b.new) >= self.max_functions:
            self.stats.functions_dropped += 1
            return False
        b.new.add(fid)
        return True

    def add_spans(self, spans: Sequence[Span]) -> int:
        """Tally the SERVER and CONSUMER spans; returns how many were tallied."""
        with self._lock:
            self._load()
            b = _Batch()
            now = self.clock()
            n = 0
            for s in spans:
                found = red.span_tally(s)
                if found is None:
                    continue
                who, t = found
                end_s = (s.start_ns + s.duration_ns) / 1e9
                if not self._in_time(end_s, now):
                    continue
                fid = _fid(who)
                if not self._admit(fid, b):
                    continue
                b.names[fid] = who
                red.add_into(b.tally(fid, "spans", int(end_s // MINUTE)), t)
                b.saw(fid, "spans", end_s - s.duration_ns / 1e9, end_s)
                n += 1
            self._write(b, now)
            self.stats.spans_tallied += n
            return n

    def _in_time(self, t: float, now: float) -> bool:
        if now - HOUR_KEEP_S <= t <= now + 600:
            return True
        self.stats.points_out_of_time += 1
        return False

    def add_points(self, points: Sequence[Point]) -> int:
        """Tally the metric points about function health; returns how many were tallied."""
        with self._lock:
            self._load()
            b = _Batch()
            now = self.clock()
            n = 0
            self._resource_keys = {}
            for p in points:
                if self._point(p, b, now):
                    n += 1
            self._resource_keys = {}
            self._write(b, now)
            self.stats.points_tallied += n
            return n

    def _point(self, p: Point, b: _Batch, now: float) -> bool:
        duration = DURATIONS.get(p.metric)
        if duration is None and p.metric not in FAAS_COUNTERS:
            self.stats.points_ignored += 1
            return False
        family = duration[0] if duration is not None else "faas"
        if duration is not None and p.shape not in ("histogram", "exponentialHistogram"):
            self.stats.points_ignored += 1
            return False
        if duration is None and not (p.shape == "sum" and p.monotonic):
            self.stats.points_ignored += 1
            return False
        who = red.identity(family, p.attributes, p.resource)
        if who is None:
            self.stats.points_ignored += 1
            return False
        t1 = p.time_ns / 1e9
        if not self._in_time(t1, now):
            return False
        fid = _fid(who)
        if not self._admit(fid, b):
            return False
        vec = self._vector(p, duration)
        if vec is None:
            self.stats.points_ignored += 1
            return False
        found = self._delta(p, fid, vec, b, now)
        if found is None:
            self.stats.points_baseline += 1
            return False
        delta, t0 = found
        b.names[fid] = who
        b.saw(fid, "metrics", t0 or t1, t1)
        cls = red.response_class(family, p.attributes) if family != "faas" else None
        for minute, frac in _minutes(t0, t1):
            t = b.tally(fid, "metrics", minute)
            if duration is not None:
                if family != "faas":
                    red.count_class(t, cls, delta[0] * frac)
                for i, v in enumerate(delta[1:]):
                    if v:
                        t[red.H0 + i] += v * frac
            else:
                self._faas(p.metric, t, delta[0] * frac)
        return True

    @staticmethod
    def _faas(metric: str, t: list[float], d: float) -> None:
        ix = red.COLUMNS.index
        if metric == "faas.invocations":
            for c in ("requests", "known", "ok", "cold_known"):
                t[ix(c)] += d
        elif metric == "faas.errors":
            t[ix("e5xx")] += d
            t[ix("ok")] -= d
        elif metric == "faas.timeouts":  # already among the errors: moved from 5xx
            t[ix("timeout")] += d
            t[ix("e5xx")] -= d
        else:
            t[ix("cold")] += d

    @staticmethod
    def _vector(p: Point, duration: tuple[str, str] | None) -> list[float] | None:
        if duration is None:
            return [p.value]
        to_ms = UNITS.get(p.unit or duration[1])
        if to_ms is None:
            return None  # a duration in a unit we cannot read is no latency at all
        hist = [0.0] * red.NB
        if p.shape == "histogram":
            if p.counts:
                red.explicit_histogram(p.bounds, p.counts, to_ms, hist)
        else:
            red.exponential_histogram(
                p.scale, p.zero_count, p.offset, p.counts, p.negative, to_ms, hist
            )
        return [p.value, *hist]

    def _stream_key(self, p: Point, fid: str) -> str:
        """The stream: the metric, its resource and its attributes (hashed: a short key)."""
        res = self._resource_keys.get(id(p.resource))
        if res is None or res[0] is not p.resource:
            text = json.dumps(sorted(p.resource.items()), default=str, separators=(",", ":"))
            res = self._resource_keys[id(p.resource)] = (p.resource, text)
        ident = json.dumps(
            [p.metric, res[1], sorted(p.attributes.items())], default=str, separators=(",", ":")
        )
        return hashlib.sha1(ident.encode(), usedforsecurity=False).hexdigest()

    def _delta(
        self, p: Point, fid: str, vec: list[float], b: _Batch, now: float
    ) -> tuple[list[float], float] | None:
        """(the counts to add, the start of their interval in seconds), or None."""
        if p.temporality == DELTA:
            return vec, p.start_ns / 1e9
        if p.temporality != CUMULATIVE:
            return None
        assert self._streams is not None
        key = self._stream_key(p, fid)
        prev = b.streams.get(key) or self._streams.get(key)
        if prev is None and len(self._streams) + len(b.streams) >= self.max_streams:
            return None
        state = (p.start_ns, p.time_ns, vec)
        if prev is not None and p.time_ns <= prev[1]:
            return None  # a retry or out of order: already counted (or older)
        b.streams[key] = state
        if prev is None:
            if p.start_ns and p.time_ns - p.start_ns <= self.first_interval_s * 1e9:
                return vec, p.start_ns / 1e9
            return None
        pstart, ptime, pvec = prev
        if p.start_ns != pstart or vec[0] < pvec[0] or len(pvec) != len(vec):
            return vec, (p.start_ns / 1e9) or ptime / 1e9  # a reset: all of it is new
        return [max(0.0, v - pv) for v, pv in zip(vec, pvec, strict=True)], ptime / 1e9

    def _write(self, b: _Batch, now: float) -> None:
        if not b.tallies and not b.streams:
            return
        hours: dict[tuple[str, str, int], list[float]] = {}
        for (fid, source, minute), t in b.tallies.items():
            key = (fid, source, minute * MINUTE // HOUR)
            h = hours.get(key)
            if h is None:
                hours[key] = list(t)
            else:
                red.add_into(h, t)
        rows = [(f, s, MINUTE, m, *t) for (f, s, m), t in b.tallies.items()]
        rows += [(f, s, HOUR, h, *t) for (f, s, h), t in hours.items()]
        functions = [
            (fid, source, *b.names[fid][:2], b.names[fid][2].value, *span)
            for (fid, source), span in b.seen.items()
            if fid in b.names
        ]
        streams = [(k, s, t, json.dumps(v), now) for k, (s, t, v) in b.streams.items()]
        prune = now - self._pruned_at >= MINUTE
        with self.store.transaction() as conn:
            conn.executemany(_UPSERT, rows)
            conn.executemany(_UPSERT_FUNCTION, functions)
            conn.executemany(_UPSERT_STREAM, streams)
            if prune:
                self._prune(conn, now)
        assert self._streams is not None and self._known is not None
        self._streams.update(b.streams)
        self._known.update(b.names)
        if prune:
            self._pruned_at = now

    def _prune(self, conn: Any, now: float) -> None:
        conn.execute(
            "DELETE FROM red_tallies WHERE step = ? AND bucket < ?",
            (MINUTE, int((now - MINUTE_KEEP_S) // MINUTE)),
        )
        conn.execute(
            "DELETE FROM red_tallies WHERE step = ? AND bucket < ?",
            (HOUR, int((now - HOUR_KEEP_S) // HOUR)),
        )
        conn.execute("DELETE FROM red_functions WHERE last_at < ?", (now - HOUR_KEEP_S,))
        gone = conn.execute(
            "SELECT stream FROM red_streams WHERE seen_at < ?", (now - STREAM_KEEP_S,)
        ).fetchall()
        if gone:
            conn.execute("DELETE FROM red_streams WHERE seen_at < ?", (now - STREAM_KEEP_S,))
            assert self._streams is not None
            for (key,) in gone:
                self._streams.pop(key, None)
        self._known = {r[0] for r in conn.execute("SELECT function_id FROM red_functions")}

    def prune(self) -> None:
        """Apply retention now (writes do it at most once a minute)."""
        with self._lock, self.store.transaction() as conn:
            self._load()
            self._prune(conn, self.clock())
            self._pruned_at = self.clock()

    # -- reading -------------------------------------------------------------------------

    def series(
        self, function_id: str, signal: str, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        """(unix seconds, value) of one signal of one function over ``(start, end]``, a point
        per ``step`` from the minute rows (the last 1 h 10 min), each minute weighted by
        how much of it falls in the point's step; no point where there were no requests.
        ``error_rate`` is ``1 − success_rate``. Unknown signals and bad ranges: ``[]``."""
        known = {f.name for f in fields(Signals)} | {"error_rate"}
        if signal not in known or not (step > 0 and math.isfinite(start + end + step)):
            return []
        end = min(end, self.clock())
        count = int((end - start) // step) + 1
        if end < start or count > 2000:
            return []
        rows = self.store.tuples(
            f"SELECT source, bucket, {_COLS} FROM red_tallies WHERE function_id = ? "
            "AND step = ? AND bucket >= ? AND bucket <= ?",
            (function_id, MINUTE, int((start - step) // MINUTE), int(end // MINUTE)),
        )
        has_metrics = any(r[0] == "metrics" and r[2] for r in rows)
        source = "metrics" if has_metrics else "spans"
        out: list[tuple[float, float]] = []
        for i in range(count):
            t = start + i * step
            tally = red.new_tally()
            for r in rows:
                if r[0] != source:
                    continue
                lo, hi = max(r[1] * MINUTE, t - step), min((r[1] + 1) * MINUTE, t)
                if hi > lo:
                    red.add_into(tally, [float(v or 0.0) for v in r[2:]], (hi - lo) / MINUTE)
            if tally[0] <= 0:
                continue
            s = red.signals_of([max(0.0, x) for x in tally], step, None, {})
            if signal == "error_rate":
                v = None if s.success_rate is None else 1.0 - s.success_rate
            else:
                v = getattr(s, signal)
            if isinstance(v, int | float) and math.isfinite(v):
                out.append((t, float(v)))
        return out

    def functions(self) -> list[Function]:
        """Every function seen within the retention, by id."""
        rows = self.store.tuples(
            "SELECT function_id, MIN(service), MIN(operation), MIN(kind) FROM red_functions "
            "GROUP BY function_id ORDER BY function_id"
        )
        return [red.function_of(r[0], r[1], r[2], r[3], "otlp") for r in rows]

    def _sums(
        self, step: int, start: float, now: float, columns: str, only: Sequence[str] = ()
    ) -> list[tuple[Any, ...]]:
        """Per (function, source): the weighted column sums of rows in ``(start, now]``
        (of the functions ``only`` names, when it names any)."""
        first = int(start // step)
        frac = ((first + 1) * step - start) / step
        where, extra = _only(only)
        return self.store.tuples(
            f"SELECT function_id, source, {columns} FROM (SELECT *, CASE WHEN bucket = ? "
            "THEN ? ELSE 1.0 END AS wt FROM red_tallies WHERE step = ? AND bucket >= ? "
            f"AND bucket <= ?{where}) AS w GROUP BY function_id, source",
            (first, frac, step, first, int(now // step), *extra),
        )

    def _cached_window_sums(
        self, step: int, windows: list[tuple[str, float]], now: float, only: Sequence[str] = ()
    ) -> list[tuple[str, tuple[str, str, tuple[float, float]]]]:
        """:meth:`_window_sums`; the hour-row windows (6h, 3d) of the whole fleet are read
        again at most once a minute (a minute moves them by at most 1/360 of their length)."""
        if step != HOUR or only:
            return list(self._window_sums(step, windows, now, only))
        key = tuple(windows)
        hit = self._hour_cache.get(key)
        if hit is not None and 0 <= now - hit[0] < HOUR_WINDOWS_TTL_S:
            return hit[1]
        rows = list(self._window_sums(step, windows, now))
        self._hour_cache = {key: (now, rows)}
        return rows

    def _window_sums(
        self, step: int, windows: list[tuple[str, float]], now: float, only: Sequence[str] = ()
    ) -> Iterator[tuple[str, tuple[str, str, tuple[float, float]]]]:
        """(window, (function, source, (requests, bad requests))) for several windows read
        from rows of one step in one pass — index-only, by ``red_tallies_windows``, grouped
        in the index's order: no table lookups, no sort."""
        if not windows:
            return
        parts: list[str] = []
        args: list[Any] = []
        oldest = int(now // step)
        for _, ws in windows:
            first = int((now - ws) // step)
            frac = ((first + 1) * step - (now - ws)) / step
            oldest = min(oldest, first)
            wt = "CASE WHEN bucket > ? THEN 1.0 WHEN bucket = ? THEN ? ELSE 0.0 END"
            parts.append(f"SUM(requests * {wt}), SUM((e5xx + timeout) * {wt})")
            args += [first, first, frac, first, first, frac]
        where, extra = _only(only)
        rows = self.store.tuples(
            f"SELECT function_id, source, {', '.join(parts)} FROM red_tallies "
            f"WHERE step = ? AND bucket >= ? AND bucket <= ?{where} GROUP BY function_id, source",
            (*args, step, oldest, int(now // step), *extra),
        )
        for r in rows:
            for i, (w, _) in enumerate(windows):
                n, nbad = r[2 + 2 * i], r[3 + 2 * i]
                yield w, (r[0], r[1], (float(n or 0.0), max(0.0, float(nbad or 0.0))))

    def signals(
        self,
        window: str = "5m",
        windows: Iterable[str] = BURN_WINDOWS,
        wanted: Iterable[str] | None = None,
    ) -> dict[str, Signals]:
        """Function id → Signals over ``window``, with an error ratio and a request count for
        each of ``windows`` the function has been seen long enough to fill. Functions with
        no row in ``window`` are left out (no data)."""
        now = self.clock()
        w_s = parse_window(window)
        want = None if wanted is None else set(wanted)
        # a few functions (one function's health, a runbook's verify): read only theirs
        only = sorted(want) if want is not None and len(want) <= FEW else []
        where, extra = _only(only)
        first_at: dict[tuple[str, str], float] = {
            (r[0], r[1]): float(r[2])
            for r in self.store.tuples(
                f"SELECT function_id, source, first_at FROM red_functions WHERE 1 = 1{where}",
                extra,
            )
        }
        cur: dict[str, dict[str, list[float]]] = {}
        step = MINUTE if w_s <= MINUTE_WINDOWS_UP_TO_S else HOUR
        for row in self._sums(step, now - w_s, now, _SUMS_OF, only):
            if want is None or row[0] in want:
                cur.setdefault(row[0], {})[row[1]] = [float(v or 0.0) for v in row[2:]]
        burn: dict[str, dict[str, dict[str, tuple[float, float]]]] = {}
        by_step: dict[int, list[tuple[str, float]]] = {MINUTE: [], HOUR: []}
        for w in dict.fromkeys(windows):
            ws = _seconds(w)
            if ws is None:
                continue
            step = MINUTE if ws <= MINUTE_WINDOWS_UP_TO_S else HOUR
            if ws <= (MINUTE_KEEP_S if step == MINUTE else HOUR_KEEP_S) - step:
                by_step[step].append((w, ws))  # beyond what is kept: no number, not a short one
        for step, ws_list in by_step.items():
            for w, (fid, src, sums) in self._cached_window_sums(step, ws_list, now, only):
                if fid in cur:
                    burn.setdefault(fid, {}).setdefault(w, {})[src] = sums
        out: dict[str, Signals] = {}
        win_list = [w for w in dict.fromkeys(windows) if _seconds(w) is not None]
        for fid, by_source in cur.items():
            chosen = _prefer(by_source, lambda v: v[0] > 0)
            if chosen is None:
                continue
            t = by_source[chosen]
            hist_source = _prefer(by_source, lambda v: sum(v[red.H0 :]) > 0)
            ratios: dict[str, tuple[float, float] | None] = {}
            for w in win_list:
                ws = _seconds(w) or 0.0
                # each window from a source that has been sending for at least that long
                # (metrics first); none: not filled yet, no ratio
                ratios[w] = None
                for src in SOURCES:
                    v = burn.get(fid, {}).get(w, {}).get(src)
                    if v is not None and v[0] > 0 and now - first_at.get((fid, src), now) + 1 >= ws:
                        ratios[w] = v
                        break
            seen = now - first_at.get((fid, chosen), now)
            seconds = max(1.0, min(w_s, seen))
            out[fid] = red.signals_of(
                [max(0.0, x) for x in t],
                seconds,
                None if hist_source is None else by_source[hist_source][red.H0 :],
                ratios,
            )
        return out


SOURCES = ("metrics", "spans")
#: Up to this many wanted functions are read by id; more: the whole table in one pass.
FEW = 50


def _only(ids: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The SQL condition (and its arguments) keeping rows of ``ids``; none when empty."""
    if not ids:
        return "", ()
    return f" AND function_id IN ({', '.join('?' for _ in ids)})", tuple(ids)


def any_function(store: Store) -> bool:
    """Whether any function has been tallied (and is still within the retention)."""
    return bool(store.tuples("SELECT 1 FROM red_functions LIMIT 1"))


def _seconds(window: str) -> float | None:
    try:
        return parse_window(window)
    except ValueError:
        return None


def _prefer(by_source: Mapping[str, Any], has: Callable[[Any], bool]) -> str | None:
    """``metrics`` when it has data, else ``spans`` when it has, else None."""
    for source in SOURCES:
        v = by_source.get(source)
        if v is not None and has(v):
            return source
    return None

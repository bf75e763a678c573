"""Pure mapping from Prometheus API payloads to Callboard's model. No I/O.

Field table (canonical labels come from :mod:`callboard_prometheus.queries`):

================  ==============================================================
payload           model
================  ==============================================================
``cb_service``    ``Function.service``
``cb_method``,    ``Function.operation`` = ``"METHOD route"`` (or just the route,
``cb_route``      or just the method); ``Function.id`` = ``service:operation``
``cb_code``       response class (:func:`console.core.classify.status_class`); a
                  grouped class (``"4xx"``) is read as such (``grouped_class``): a
                  4xx is an unclassified client error, and the rates it hides
                  (throttle, auth, serialization, timeout) are no data, not 0
value ``"NaN"``   no data (``None``); ``"+Inf"``/``"-Inf"``/negative rates: no data
``warnings``      kept and shown (partial data from scale-out engines)
================  ==============================================================
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.core.classify import (
    CLASS_FIELDS,
    DEFAULT_COUNTED,
    GROUPED_HIDES,
    grouped_class,
    status_class,
    success_rate,
)
from console.core.model import Function, Kind, Signals
from console.errors import BadResponse

from .queries import QUANTILES, ROLE_LABELS, WINDOW_LABEL

#: The key of a function's highest finite bucket bound in :func:`latency_rows`' result.
TOP = "top"

Row = tuple[Mapping[str, str], float]


def envelope(payload: Any, expect: tuple[str, ...] = ("vector",)) -> tuple[list[Any], list[str]]:
    """The ``data.result`` list and the ``warnings`` of a query response.

    Raises:
        BadResponse: an error envelope, or a payload not shaped like the API's.
    """
    if not isinstance(payload, Mapping):
        raise BadResponse("Prometheus sent JSON that is not an API envelope")
    raw = payload.get("warnings")
    # the API sends a list of strings; anything else (a number, one bare string) is ignored
    warnings = [w for w in raw if isinstance(w, str)] if isinstance(raw, list) else []
    if payload.get("status") != "success":
        err = payload.get("error") or "unknown error"
        raise BadResponse(f"Prometheus query failed ({payload.get('errorType', 'error')}): {err}")
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise BadResponse("Prometheus response has no data object")
    rtype = data.get("resultType")
    result = data.get("result")
    if rtype not in expect or not isinstance(result, list):
        raise BadResponse(f"Prometheus returned resultType {rtype!r}, expected {expect[0]!r}")
    return result, warnings


def number(raw: Any) -> float | None:
    """A sample value string as a float (``"NaN"`` → nan, ``"+Inf"`` → inf); None if unreadable."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None
    try:
        return float(raw)
    except (ValueError, OverflowError):
        return None


def vector_rows(result: Iterable[Any]) -> tuple[list[Row], int]:
    """``(labels, value)`` pairs of an instant vector, and how many entries were malformed."""
    rows: list[Row] = []
    bad = 0
    for item in result:
        metric = item.get("metric") if isinstance(item, Mapping) else None
        value = item.get("value") if isinstance(item, Mapping) else None
        v = number(value[1]) if isinstance(value, list) and len(value) == 2 else None
        if not isinstance(metric, Mapping) or v is None:
            bad += 1
            continue
        rows.append(({str(k): str(x) for k, x in metric.items()}, v))
    return rows, bad


def matrix_points(result: Iterable[Any]) -> list[tuple[float, float]]:
    """The points of the first series of a matrix; non-finite and malformed points dropped."""
    for item in result:
        values = item.get("values") if isinstance(item, Mapping) else None
        if not isinstance(values, list):
            continue
        out = []
        for p in values:
            if isinstance(p, list) and len(p) == 2:
                t, v = number(p[0]), number(p[1])
                if t is not None and v is not None and math.isfinite(t) and math.isfinite(v):
                    out.append((t, v))
        return out
    return []


def operation_of(route: str, method: str) -> str:
    """The operation name: ``"POST /pay"``, ``"/pay"`` or ``"POST"``."""
    return f"{method} {route}" if method and route else (route or method)


def function_id(labels: Mapping[str, str]) -> str | None:
    """The function id a row's canonical labels name, or None without a service."""
    service = labels.get(ROLE_LABELS["service"], "")
    if not service:
        return None
    op = operation_of(labels.get(ROLE_LABELS["route"], ""), labels.get(ROLE_LABELS["method"], ""))
    return Function.make_id(service, op)


def functions(rows: Iterable[Row], source: str) -> list[Function]:
    """One Function per distinct identity, sorted by id."""
    out: dict[str, Function] = {}
    for labels, _ in rows:
        fid = function_id(labels)
        if fid is None or fid in out:
            continue
        route = labels.get(ROLE_LABELS["route"], "")
        method = labels.get(ROLE_LABELS["method"], "")
        identity = {"route": route, "method": method}
        out[fid] = Function(
            id=fid,
            service=labels[ROLE_LABELS["service"]],
            operation=operation_of(route, method),
            kind=Kind.HTTP,
            labels={k: v for k, v in identity.items() if v},
            source=source,
        )
    return [out[k] for k in sorted(out)]


#: This many routes in one service suggests concrete URLs the id rule did not catch.
MANY_ROUTES = 100


def route_warnings(rows: Iterable[Row]) -> list[str]:
    """What the discovery rows say about route labels: URLs collapsed into templates, and
    services whose routes look like concrete URLs still (many routes, each one series)."""
    collapsed: dict[str, list[float]] = {}
    per_service: dict[str, int] = {}
    for labels, v in rows:
        service = labels.get(ROLE_LABELS["service"], "")
        if not service or not labels.get(ROLE_LABELS["route"]):
            continue
        per_service[service] = per_service.get(service, 0) + 1
        if _usable(v) and v > 1:
            collapsed.setdefault(service, []).append(v)
    out = []
    for service, counts in sorted(collapsed.items()):
        out.append(
            f"{service}: the route label holds concrete URLs; {sum(counts):.0f} were collapsed "
            f"into {len(counts)} route(s) by the id rule (numeric, UUID and hex segments → "
            "{id}; set route_patterns for others)"
        )
    for service, n in sorted(per_service.items()):
        if n >= MANY_ROUTES:
            out.append(
                f"{service}: {n} distinct routes (high cardinality): if the route label holds "
                "concrete URLs, set route_patterns (e.g. /users/{name}) to group them"
            )
    return out


def code_class(raw: str | None) -> str | None:
    """The response class of a status-code label (``"503"``, ``"5xx"``); None if unknown."""
    if not raw:
        return None
    text = raw.strip().lower()
    grouped = grouped_class(text)
    if grouped is not None:
        return grouped
    try:
        return status_class(int(text))
    except ValueError:
        return None


@dataclass
class Counts:
    """Traffic of one function split by response class."""

    total: float = 0.0
    known: float = 0.0
    by_class: dict[str, float] = field(default_factory=dict)
    #: The exporter reports grouped classes ("2xx", "4xx") rather than codes.
    grouped: bool = False
    #: Classes a grouped label with traffic hides (their rates are unknown, not 0).
    hidden: set[str] = field(default_factory=set)

    def add(self, code: str | None, value: float) -> None:
        self.total += value
        cls = code_class(code)
        if cls is not None:
            self.known += value
            self.by_class[cls] = self.by_class.get(cls, 0.0) + value
            text = (code or "").strip().lower()
            if grouped_class(text) is not None:
                self.grouped = True
                if value > 0:  # a grouped 4xx series at rate 0 still says "no 4xx at all"
                    self.hidden |= GROUPED_HIDES.get(text, frozenset())

    def rates(self) -> dict[str, float | None]:
        """Class rates as fractions of all traffic (None without traffic or codes, and for
        classes a grouped label hides)."""
        if self.total <= 0 or self.known <= 0:
            return dict.fromkeys(CLASS_FIELDS.values())
        return {
            f: None if c in self.hidden else self.by_class.get(c, 0.0) / self.total
            for c, f in CLASS_FIELDS.items()
        }

    def error_ratio(self, counted: frozenset[str]) -> float | None:
        if self.total <= 0 or self.known <= 0:
            return None
        known = [c for c in counted if c not in self.hidden]
        if not known:
            return None
        return sum(self.by_class.get(c, 0.0) for c in known) / self.total


def grouped_services(counts: Mapping[Any, Counts]) -> list[str]:
    """Services whose exporter reports grouped status classes, sorted (for the warning)."""
    return sorted(k for k, c in counts.items() if isinstance(k, str) and ":" not in k and c.grouped)


def _usable(v: float) -> bool:
    return math.isfinite(v) and v >= 0


def count_rows(rows: Iterable[Row], key_label: str | None = None) -> dict[Any, Counts]:
    """Counts per function id (and per ``key_label`` value when given)."""
    out: dict[Any, Counts] = {}
    for labels, v in rows:
        fid = function_id(labels)
        if fid is None or not _usable(v):
            continue
        keys: list[Any] = [fid]
        service = labels[ROLE_LABELS["service"]]
        if fid != service:
            keys.append(service)  # also the service as a whole, for service-level functions
        for k in keys:
            key = (k, labels.get(key_label, "")) if key_label else k
            out.setdefault(key, Counts()).add(labels.get(ROLE_LABELS["code"]), v)
    return out


def latency_rows(
    rows: Iterable[Row], unit: str, tops: Mapping[str, float] | None = None
) -> dict[tuple[str, str], float]:
    """``(function id, quantile label)`` → milliseconds; NaN and ±Inf dropped.

    ``tops`` maps a row's ``cb_p`` (its preset) to that histogram's highest finite bucket
    bound (in ``unit``); each function then also gets ``(fid, TOP)``, in milliseconds."""
    scale = 1000.0 if unit == "s" else 1.0
    out: dict[tuple[str, str], float] = {}
    for labels, v in rows:
        fid = function_id(labels)
        if fid is not None and _usable(v):
            out[(fid, labels.get("cb_q", ""))] = v * scale
            top = (tops or {}).get(labels.get("cb_p", ""))
            if top is not None:
                out[(fid, TOP)] = top * scale
    return out


_LATENCY_FIELDS = {f"{q:g}": f"p{round(q * 100)}_ms" for q in QUANTILES}


def capped(lat: Mapping[tuple[str, str], float], fid: str) -> tuple[str, ...]:
    """The latency fields of ``fid`` that are lower bounds: ``histogram_quantile`` answered
    the highest finite bucket's bound, as it does for a quantile falling beyond it."""
    top = lat.get((fid, TOP))
    if top is None:
        return ()
    # 1e-9: the bound comes back through float arithmetic (and a ms → s division)
    return tuple(
        name
        for q, name in _LATENCY_FIELDS.items()
        if (fid, q) in lat and lat[(fid, q)] >= top * (1 - 1e-9)
    )


def top_bucket(values: Any) -> float | None:
    """The highest finite ``le`` among label values (``["0.1", "1", "+Inf"]`` → 1.0)."""
    finite = [v for v in (number(x) for x in values or ()) if v is not None and math.isfinite(v)]
    return max(finite) if finite else None


def build_signals(
    wanted: Iterable[str],
    requests: Mapping[Any, Counts],
    lat: Mapping[tuple[str, str], float],
    burn: Mapping[Any, Counts],
    windows: Iterable[str],
    counted: frozenset[str] = DEFAULT_COUNTED,
) -> dict[str, Signals]:
    """Signals for each wanted function id that Prometheus knows anything about."""
    windows = tuple(windows)
    out: dict[str, Signals] = {}
    for fid in wanted:
        c = requests.get(fid)
        ratios: dict[str, float] = {}
        reqs: dict[str, float] = {}
        for w in windows:
            b = burn.get((fid, w))
            if b is None:
                continue
            reqs[w] = b.total
            r = b.error_ratio(counted)
            if r is not None:
                ratios[w] = r
        if c is None and not reqs:
            continue
        rates = c.rates() if c is not None else dict.fromkeys(CLASS_FIELDS.values())
        traffic = c is not None and c.total > 0
        s = Signals(
            rate_rps=c.total if c is not None else None,
            p50_ms=lat.get((fid, "0.5")) if traffic else None,
            p95_ms=lat.get((fid, "0.95")) if traffic else None,
            p99_ms=lat.get((fid, "0.99")) if traffic else None,
            error_ratio=ratios,
            requests=reqs,
            latency_capped=capped(lat, fid) if traffic else (),
            **rates,
        )
        out[fid] = _with_success(s, counted)
    return out


def _with_success(s: Signals, counted: frozenset[str]) -> Signals:
    from dataclasses import replace

    return replace(s, success_rate=success_rate(s, counted))


def burn_rows(rows: Iterable[Row]) -> dict[Any, Counts]:
    """Counts per ``(function id, window)`` from the combined burn-window query."""
    return count_rows(rows, key_label=WINDOW_LABEL)

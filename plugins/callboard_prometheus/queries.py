"""Presets (metric and label names) and the PromQL each refresh sends.

Every query aggregates the whole fleet at once (``sum by (...)``), so a refresh costs the
same number of requests for 5 functions as for 10,000. Identity labels may have
alternatives (``service_name``, falling back to ``job``); the query folds them into one
canonical label per role with ``label_replace`` *after* ``rate()`` (rate first, then
aggregate) so each function comes back as exactly one series.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from console.errors import ConfigError

from . import conventions, routes
from . import templates as template_text

#: Canonical label per identity role, as they come back from every query.
ROLE_LABELS: dict[str, str] = {
    "service": "cb_service",
    "route": "cb_route",
    "method": "cb_method",
    "code": "cb_code",
}
WINDOW_LABEL = "cb_window"
QUANTILES: tuple[float, ...] = (0.5, 0.95, 0.99)
_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


@dataclass(frozen=True)
class Preset:
    """Where a preset finds requests and latency.

    ``requests`` is a counter of requests (with a status-code label); ``buckets`` the
    ``_bucket`` series of a latency histogram; ``latency_unit`` its unit (``s`` or ``ms``).
    ``labels`` maps each role (service, route, method, code) to label names, first found wins.
    ``selector`` is an optional extra matcher list, e.g. ``job="api"``.
    """

    name: str
    requests: str
    buckets: str | None
    latency_unit: str = "s"
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    selector: str = ""
    #: Custom PromQL templates (keys ``requests``, ``latency``) replacing the generated ones.
    templates: Mapping[str, str] = field(default_factory=dict)
    #: Collapse id segments of concrete URLs in the route (``/orders/1001`` → ``/orders/{id}``).
    collapse_routes: bool = True
    #: User route templates tried first (``/users/{name}``), see :mod:`.routes`.
    route_patterns: tuple[str, ...] = ()
    #: Only these Prometheus jobs (a ``job=~`` matcher; empty: every job).
    jobs: tuple[str, ...] = ()
    #: ``rate`` (``rate()`` per series) or ``delta`` (sums now minus a window ago), see
    #: :func:`counted`.
    counting: str = "rate"


PRESETS: dict[str, Preset] = {
    c.name: Preset(
        name=c.name,
        requests=c.requests,
        buckets=c.buckets,
        latency_unit=c.unit,
        labels=dict(c.labels),
        counting=c.counting,
        collapse_routes=c.collapse,
    )
    for c in conventions.CONVENTIONS
}


def for_jobs(preset: Preset, jobs: Sequence[str]) -> Preset:
    """``preset`` restricted to the Prometheus jobs ``jobs`` (a ``job=~"..."`` matcher)."""
    return replace(preset, jobs=tuple(sorted(jobs)))


def matchers(preset: Preset) -> str:
    """The preset's own matchers: the configured ``selector`` and its jobs, if any."""
    jobs = f"job=~{_q('|'.join(re.escape(j) for j in preset.jobs))}" if preset.jobs else ""
    return ", ".join(m for m in (preset.selector, jobs) if m)


def _names(value: Any, where: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value or ())
    for n in items:
        if not isinstance(n, str) or not _LABEL_RE.match(n):
            raise ConfigError(f"{where}: {n!r} is not a Prometheus label name")
    return items


def build_preset(options: Mapping[str, Any]) -> Preset:
    """The preset named by ``options["preset"]`` with the config's overrides applied.

    Overrides: ``requests_metric``, ``buckets_metric``, ``latency_unit``, ``selector``,
    ``labels: {service: [...], route: [...], method: [...], code: [...]}`` and, for
    ``custom``, ``queries: {requests: "...", latency: "..."}`` (placeholders ``$window``,
    ``$by``, ``$selector``, ``$q``: :mod:`.templates`; results must carry the canonical
    ``cb_*`` labels that ``$by`` lists).

    Raises:
        ConfigError: an unknown preset, a bad metric or label name, a custom preset
            without a requests metric or query.
    """
    name = options.get("preset", "otel-http")
    name = conventions.ALIASES.get(name, name) if isinstance(name, str) else name
    if name == "custom":
        base = Preset(name="custom", requests="", buckets=None, labels={})
    elif name in PRESETS:
        base = PRESETS[name]
    else:
        raise ConfigError(
            f"preset: unknown {name!r} (expected one of: {', '.join([*PRESETS, 'custom'])})"
        )
    labels = dict(base.labels)
    raw_labels = options.get("labels") or {}
    if not isinstance(raw_labels, Mapping):
        raise ConfigError("labels: expected a mapping of role to label names")
    for role, names in raw_labels.items():
        if role not in ROLE_LABELS:
            raise ConfigError(f"labels: unknown role {role!r} (expected {', '.join(ROLE_LABELS)})")
        labels[role] = _names(names, f"labels.{role}")
    if not labels.get("service"):
        labels["service"] = ("service", "job")
    preset = replace(base, labels=labels)
    for key, attr in (("requests_metric", "requests"), ("buckets_metric", "buckets")):
        if key in options:
            metric = options[key]
            if metric is not None and (not isinstance(metric, str) or not _METRIC_RE.match(metric)):
                raise ConfigError(f"{key}: {metric!r} is not a metric name")
            preset = replace(preset, **{attr: metric})  # type: ignore[arg-type]
    unit = options.get("latency_unit", preset.latency_unit)
    if unit not in ("s", "ms"):
        raise ConfigError(f"latency_unit: expected 's' or 'ms', got {unit!r}")
    selector = options.get("selector", "")
    if not isinstance(selector, str) or "}" in selector or "{" in selector:
        raise ConfigError('selector: expected matchers without braces, e.g. job="api"')
    templates = template_text.check(options.get("queries"))
    counting = options.get("counting", preset.counting)
    if counting not in ("rate", "delta"):
        raise ConfigError(f"counting: expected 'rate' or 'delta', got {counting!r}")
    collapse = options.get("collapse_routes", preset.collapse_routes)
    if not isinstance(collapse, bool):
        raise ConfigError(f"collapse_routes: expected true or false, got {collapse!r}")
    preset = replace(
        preset,
        latency_unit=unit,
        selector=selector,
        templates=dict(templates),
        collapse_routes=collapse,
        counting=counting,
        route_patterns=routes.parse_patterns(options.get("route_patterns")),
    )
    if not preset.requests and "requests" not in preset.templates:
        raise ConfigError("preset custom needs requests_metric or queries.requests")
    return preset


def _fold(expr: str, labels: Mapping[str, Sequence[str]], roles: Sequence[str]) -> str:
    """Wrap ``expr`` so each role's first present label lands in its canonical label."""
    for role in roles:
        target = ROLE_LABELS[role]
        # Apply the alternatives last-to-first: a later, non-empty one overwrites an earlier.
        for name in reversed(labels.get(role, ())):
            expr = f'label_replace({expr}, "{target}", "$1", "{name}", "(.+)")'
    return expr


def fold(preset: Preset, expr: str, roles: Sequence[str], raw_route: str = "") -> str:
    """:func:`_fold`, then concrete URLs in the route collapsed (:mod:`.routes`); with
    ``raw_route``, the route as reported is also kept in that label."""
    expr = _fold(expr, preset.labels, roles)
    if "route" not in roles or not preset.collapse_routes:
        return expr
    target = ROLE_LABELS["route"]
    if raw_route:
        expr = f'label_replace({expr}, "{raw_route}", "$1", "{target}", "(.*)")'
    return routes.collapse_expr(expr, target, preset.route_patterns)


def _selector(metric: str, preset: Preset, extra: str = "") -> str:
    all_ = ", ".join(m for m in (matchers(preset), extra) if m)
    return f"{metric}{{{all_}}}" if all_ else metric


def _id_roles(preset: Preset) -> tuple[str, ...]:
    return tuple(r for r in ("service", "route", "method") if preset.labels.get(r))


def group_by(preset: Preset, *extra: str) -> str:
    """The ``by (...)`` label list: canonical identity labels plus ``extra``."""
    return ", ".join([*extra, *(ROLE_LABELS[r] for r in _id_roles(preset))])


def raw_by(preset: Preset, roles: Sequence[str], *extra: str) -> str:
    """The exporter's own label names for ``roles`` (what ``$by`` becomes in a template)."""
    names = [*extra, *(n for r in roles for n in preset.labels.get(r, ()))]
    return ", ".join(dict.fromkeys(names))


def filled(preset: Preset, key: str, window: str, q: float = 0.99) -> str:
    """The custom template ``key`` (``requests`` or ``latency``) with its placeholders
    replaced as a refresh replaces them (``callboard check --probe`` runs it as it is)."""
    if key == "requests":
        roles = (*_id_roles(preset), "code") if preset.labels.get("code") else _id_roles(preset)
        return template_text.fill(
            preset.templates[key],
            window=window,
            by=raw_by(preset, roles),
            selector=matchers(preset),
        )
    return template_text.fill(
        preset.templates[key],
        window=window,
        by=raw_by(preset, _id_roles(preset), "le"),
        selector=matchers(preset),
        q=f"{q:g}",
    )


def requests_by_code(preset: Preset, window: str, fn: str = "rate", extra: str = "") -> str:
    """Request rate (or increase) per function and status code."""
    roles = (*_id_roles(preset), "code") if preset.labels.get("code") else _id_roles(preset)
    by = group_by(preset, ROLE_LABELS["code"]) if "code" in roles else group_by(preset)
    if "requests" in preset.templates:
        # the template speaks the exporter's labels; Callboard folds them, then aggregates
        return f"sum by ({by}) ({fold(preset, filled(preset, 'requests', window), roles)})"
    return counted(preset, preset.requests, extra, window, by, roles, fn)


def _window_s(window: str) -> float:
    m = re.fullmatch(r"(\d+)([smhd])", window)
    if m is None:
        raise ValueError(f"not a whole-unit PromQL duration: {window!r}")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def counted(
    preset: Preset,
    metric: str,
    extra: str,
    window: str,
    by: str,
    roles: Sequence[str],
    fn: str = "rate",
) -> str:
    """``sum by (by)`` of a counter's per-second rate (or ``increase``) over ``window``.

    With ``preset.counting == "delta"`` the sum of the counters now minus the sum a window
    ago (a group new since then counts whole): ``rate()`` never sees a series that got its
    only increments before its first scrape, as each concrete URL of an exporter labelling
    by URL does. A counter reset in that mode reads as no traffic (clamped at 0).
    """
    sel = _selector(metric, preset, extra)
    if preset.counting != "delta":
        return f"sum by ({by}) ({fold(preset, f'{fn}({sel}[{window}])', roles)})"
    now = f"sum by ({by}) ({fold(preset, sel, roles)})"
    then = f"sum by ({by}) ({fold(preset, f'{sel} offset {window}', roles)})"
    inc = f"clamp_min(({now} - {then}) or {now}, 0)"
    return inc if fn == "increase" else f"{inc} / {_window_s(window):g}"


def latency(
    preset: Preset, window: str, q: float, extra: str = "", seconds: bool = False
) -> str | None:
    """``histogram_quantile`` per function (``le`` kept in the ``by``), or None without one.

    With ``seconds``, a histogram in milliseconds is divided by 1000, so several
    conventions can share one query."""
    by = group_by(preset, "le")
    if "latency" in preset.templates:
        expr = fold(preset, filled(preset, "latency", window, q), _id_roles(preset))
    elif not preset.buckets:
        return None
    else:
        summed = counted(preset, preset.buckets, extra, window, by, _id_roles(preset))
        expr = f"histogram_quantile({q:g}, {summed})"
    return f"({expr}) / 1000" if seconds and preset.latency_unit == "ms" else expr


def tagged(expr: str, label: str, value: str) -> str:
    """``expr`` with a constant label added, so several can share one query via ``or``."""
    return f'label_replace({expr}, "{label}", "{value}", "", "")'


def bucket_selector(preset: Preset) -> str | None:
    """The selector of the latency histogram's buckets (for ``label/le/values``), or None."""
    if not preset.buckets or "latency" in preset.templates:
        return None
    return _selector(preset.buckets, preset)


def latencies(preset: Preset, window: str, seconds: bool = False) -> str | None:
    """p50, p95 and p99 in one query, told apart by a ``cb_q`` label."""
    parts = [latency(preset, window, q, seconds=seconds) for q in QUANTILES]
    if any(p is None for p in parts):
        return None
    return " or ".join(tagged(p, "cb_q", f"{q:g}") for p, q in zip(parts, QUANTILES, strict=True))  # type: ignore[arg-type]


def burn_windows(preset: Preset, windows: Mapping[str, str]) -> str:
    """Requests per function and code over each burn window, in one query.

    ``windows`` maps the window's name ("5m") to the range actually used (never shorter
    than 4 scrape intervals).
    """
    parts = [
        tagged(requests_by_code(preset, rng, fn="increase"), WINDOW_LABEL, name)
        for name, rng in windows.items()
    ]
    return " or ".join(parts)


#: Label holding the route as the exporter reported it, in the discovery query.
RAW_ROUTE = "cb_raw_route"


def discover(preset: Preset) -> str:
    """Every function with a requests series, one row each; its value is how many routes
    as reported (concrete URLs) were collapsed into it (1 when none were)."""
    if "requests" in preset.templates:
        return f"group by ({group_by(preset)}) ({requests_by_code(preset, '5m')})"
    roles = _id_roles(preset)
    if "route" in roles and preset.collapse_routes:
        inner = fold(preset, _selector(preset.requests, preset), roles, raw_route=RAW_ROUTE)
        raw = group_by(preset, RAW_ROUTE)
        return f"count by ({group_by(preset)}) (group by ({raw}) ({inner}))"
    inner = fold(preset, _selector(preset.requests, preset), roles)
    return f"group by ({group_by(preset)}) ({inner})"


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def narrow(preset: Preset, identity: Mapping[str, str]) -> str:
    """Raw-series matchers for one function, for roles with a single label name."""
    out = []
    for role, value in identity.items():
        names = preset.labels.get(role, ())
        if role == "route" and "{" in value:
            continue  # a template (maybe collapsed from many URLs): no raw series has it
        if len(names) == 1:
            out.append(f"{names[0]}={_q(value)}")
    return ", ".join(out)


def only(expr: str, preset: Preset, identity: Mapping[str, str]) -> str:
    """``expr`` filtered to the one function whose canonical labels are ``identity``."""
    one = "vector(1)"
    for role, value in identity.items():
        one = f'label_replace({one}, "{ROLE_LABELS[role]}", {_q(value.replace("$", "$$"))}, "", "")'
    on = ", ".join(ROLE_LABELS[r] for r in identity)
    return f"(({expr}) and on ({on}) {one})"

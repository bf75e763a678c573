"""Success-rate classification: which responses count against the SLO.

Every response falls into exactly one class:

=================  ===============================================  =========================
class              responses                                        Signals field
=================  ===============================================  =========================
``ok``             1xx, 2xx, 3xx                                    (counted in success)
``5xx``            500–599 except 504                               ``error_5xx_rate``
``timeout``        no status code (the client gave up), 504, 408    ``timeout_rate``
``throttle``       429                                              ``throttle_rate``
``auth``           401, 403                                         ``auth_error_rate``
``serialization``  400, 422                                         ``serialization_error_rate``
``client``         any other 4xx                                    (none: never counted)
=================  ===============================================  =========================

Some exporters report only the class of a response (``status="4xx"``; e.g.
prometheus-fastapi-instrumentator by default). :func:`grouped_class` reads such a label: a
grouped ``5xx`` counts as ``5xx`` (504s included), a grouped ``4xx`` is an unclassified
``client`` error, and :data:`GROUPED_HIDES` names the classes a grouped label makes
unknowable (their rates are then no data, never 0).

By default only ``5xx`` and ``timeout`` count against the SLO (:data:`DEFAULT_COUNTED`):
those are the failures the service owns. Throttling, auth and serialization errors are
usually a caller's problem, so they are reported in their own rates and count only when
configured (``validate_counted`` checks such a configuration).

``success_rate`` is ``1 − sum of the counted class rates``. It never invents a number:

- no traffic (``rate_rps`` is ``None`` or 0) gives ``None``;
- if *none* of the counted class rates is known (``None`` or NaN) it gives ``None``, never 1.0;
- if at least one counted class is known, a counted class whose rate is ``None`` counts as
  0: a backend that measures 5xx but not timeouts still yields a success rate (from what it
  does measure) rather than nothing;
- the result is clamped at 0, because inconsistent inputs from two sources can add up to more
  than all traffic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from console.core.model import Signals

#: Classes that count against the SLO unless configured otherwise.
DEFAULT_COUNTED: frozenset[str] = frozenset({"5xx", "timeout"})

#: Countable class -> the Signals field holding its rate (a fraction of all requests).
CLASS_FIELDS: Mapping[str, str] = {
    "5xx": "error_5xx_rate",
    "timeout": "timeout_rate",
    "throttle": "throttle_rate",
    "auth": "auth_error_rate",
    "serialization": "serialization_error_rate",
}

#: Every class ``status_class`` can return.
ALL_CLASSES: frozenset[str] = frozenset({"ok", "client", *CLASS_FIELDS})

_SPECIAL: dict[int, str] = {
    408: "timeout",
    504: "timeout",
    429: "throttle",
    401: "auth",
    403: "auth",
    400: "serialization",
    422: "serialization",
}


#: Grouped status label -> the class its responses are counted in.
GROUPED: Mapping[str, str] = {"1xx": "ok", "2xx": "ok", "3xx": "ok", "4xx": "client", "5xx": "5xx"}

#: Grouped status label -> the countable classes hidden inside it (408 and 504 are timeouts).
GROUPED_HIDES: Mapping[str, frozenset[str]] = {
    "4xx": frozenset({"throttle", "auth", "serialization", "timeout"}),
    "5xx": frozenset({"timeout"}),
}


def grouped_class(label: str) -> str | None:
    """The class of a grouped status label (``"4xx"`` → ``client``); None if not grouped."""
    return GROUPED.get(label.strip().lower())


def status_class(code: int | None) -> str:
    """The class of one response given its HTTP status code.

    ``None`` means there was no status code because the client gave up: a ``timeout``.

    Raises:
        ValueError: if ``code`` is not a valid HTTP status code (100–599).
    """
    if code is None:
        return "timeout"
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
        raise ValueError(f"not an HTTP status code: {code!r} (expected 100–599 or None)")
    special = _SPECIAL.get(code)
    if special is not None:
        return special
    if code < 400:
        return "ok"
    return "5xx" if code >= 500 else "client"


def validate_counted(classes: Iterable[str] | str) -> frozenset[str]:
    """Check a configured set of classes that count against the SLO.

    A single string is taken as one class. Returns the classes as a frozenset.

    Raises:
        ValueError: naming the first unknown (or uncountable) class and listing valid ones.
    """
    items = (classes,) if isinstance(classes, str) else tuple(classes)
    valid = ", ".join(sorted(CLASS_FIELDS))
    for c in items:
        if c not in CLASS_FIELDS:
            if c in ALL_CLASSES:
                raise ValueError(
                    f"class {c!r} cannot count against the SLO (it has no rate of its own); "
                    f"expected one of: {valid}"
                )
            raise ValueError(f"unknown response class {c!r}; expected one of: {valid}")
    return frozenset(items)


def success_rate(signals: Signals, counted: frozenset[str] = DEFAULT_COUNTED) -> float | None:
    """The fraction of requests that succeeded, or ``None`` when it is not known.

    See the module docstring for how missing data is treated.

    Raises:
        ValueError: if ``counted`` names an unknown class.
    """
    rps = signals.rate_rps
    if rps is None or rps <= 0:
        return None
    if counted is not DEFAULT_COUNTED:
        validate_counted(counted)
    failed = 0.0
    known = False
    for cls in counted:
        rate = getattr(signals, CLASS_FIELDS[cls])
        if rate is not None and rate == rate:  # rate != rate: NaN, no data
            failed += rate
            known = True
    if not known:
        return None
    return max(0.0, 1.0 - failed)


def class_rates(counts: Mapping[int | None, float]) -> dict[str, float]:
    """Turn response counts by status code (``None`` = timed out) into Signals rates.

    Returns ``{field name: fraction of all responses}`` for every countable class (0.0 when a
    class has no responses but there was traffic), or ``{}`` when there were no responses at
    all, so no rate is ever made up from nothing.

    Raises:
        ValueError: for an invalid status code or a negative count.
    """
    total = 0.0
    by_class: dict[str, float] = dict.fromkeys(CLASS_FIELDS, 0.0)
    for code, n in counts.items():
        if n < 0:
            raise ValueError(f"negative count {n!r} for status {code!r}")
        total += n
        cls = status_class(code)
        if cls in by_class:
            by_class[cls] += n
    if total <= 0:
        return {}
    return {CLASS_FIELDS[c]: n / total for c, n in by_class.items()}

"""Bounds on what one OTLP export request may decode to, and the errors for breaking them.

Why bounds on *decoded* size and not only on bytes: two bytes of protobuf (``0a 00``) are
an empty ``ResourceSpans`` that Python holds as a dict and a list (~300 bytes), so a 16 MB
body could become gigabytes. The decoders count before they allocate and stop at the
first item over a request-wide bound (:class:`LimitError`, answered 400: retrying the
same request can never succeed). Per-span bounds (attributes, events, value length)
reject only that span, reported to the sender as ``partialSuccess``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DecodeLimits:
    """What one request may hold once decoded. The defaults are far above what an SDK
    sends (its batch is 512 spans, 128 attributes and 128 events per span)."""

    max_resource_spans: int = 1_000
    """``resource_spans`` entries per request (``resource_metrics`` for metrics)."""
    max_scope_spans: int = 10_000
    """``scope_spans`` entries per request, all resources together (``scope_metrics``)."""
    max_spans: int = 20_000
    """Spans per request."""
    max_items: int = 200_000
    """Decoded objects per request: resources, scopes, spans, key-values, events and
    array/kvlist elements. This is the bound that caps memory (about 1 KiB per item)."""
    max_json_tokens: int = 800_000
    """``{``, ``[`` and ``,`` bytes in an OTLP JSON body, counted before parsing: every
    JSON value the parser could allocate is delimited by one of them."""
    max_attributes: int = 128
    """Attributes per span, event or resource (the SDK's default attribute count limit)."""
    max_events: int = 128
    """Events per span (the SDK's default)."""
    max_data_points: int = 50_000
    """Metric data points per request (the SDK's batch is one collection: a few hundred)."""
    max_buckets: int = 1_000
    """Buckets per histogram data point (the SDK's exponential histogram has 160)."""
    max_value_length: int = 32 * 1024
    """Characters in one string (or bytes in one bytes value), span names included."""


class LimitError(ValueError):
    """The request as a whole is over a :class:`DecodeLimits` bound (answer 400)."""


class NumberError(ValueError):
    """A number that is not finite or out of its type's range (answer 400)."""


INT64 = (-(2**63), 2**63 - 1)


def int64(value: object) -> int:
    """An OTLP ``intValue`` (an integer, an integral float or a decimal string), checked
    against the int64 range. Raises NumberError."""
    if isinstance(value, bool):
        raise NumberError(f"intValue {value!r} is not an integer")
    try:
        if isinstance(value, float):
            if not value.is_integer():  # NaN and infinities are not integral either
                raise NumberError(f"intValue {value!r} is not an integer")
            n = int(value)
        elif isinstance(value, int | str):
            n = int(value)
        else:
            raise NumberError(f"intValue {value!r} is not an integer")
    except (ValueError, OverflowError):
        raise NumberError(f"intValue {str(value)[:40]!r} is not an integer") from None
    if not INT64[0] <= n <= INT64[1]:
        raise NumberError(f"intValue {str(value)[:40]} is out of the int64 range")
    return n


def finite(value: object) -> float:
    """An OTLP ``doubleValue``, which must be a finite number. Raises NumberError."""
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise NumberError(f"doubleValue {str(value)[:40]!r} is not a number") from None
    if f != f or f in (float("inf"), float("-inf")):
        raise NumberError(f"doubleValue {str(value)[:40]} is not finite")
    return f

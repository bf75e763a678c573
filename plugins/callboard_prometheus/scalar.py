"""One PromQL instant query read as one number: the ``Query`` capability. Pure but for
:func:`query_scalar`, which sends the query through the plugin's HTTP helper.

==========================================  ===========================================
answer                                      value
==========================================  ===========================================
``resultType: scalar`` (``scalar(...)``)    its number
``resultType: vector`` with one series      that series' number
``resultType: vector`` with no series       no data (None)
a value ``"NaN"``, ``"+Inf"``, ``"-Inf"``   no data (None): never a made-up number
a vector of several series                  ``BadResponse`` (aggregate it: ``sum(...)``)
anything else (string, matrix, an error)    ``BadResponse`` with what was wrong
==========================================  ===========================================

The answer is read through the backend's ``max_response_bytes`` bound like every other
(a query that matches a million series is cut off while streaming, not decoded whole).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from console.errors import BadResponse

from . import parse

if TYPE_CHECKING:
    from console.engine.fleet.httpbackend import HttpBackend


def value_of(payload: Any) -> float | None:
    """The single number of an instant query's answer (see the module's table).

    Raises:
        BadResponse: an error envelope, several series, or a result that is not a number.
    """
    data = payload.get("data") if isinstance(payload, Mapping) else None
    rtype = data.get("resultType") if isinstance(data, Mapping) else None
    result, _ = parse.envelope(payload, ("scalar",) if rtype == "scalar" else ("vector",))
    if rtype == "scalar":
        sample: Any = result
    elif not result:
        return None
    elif len(result) > 1:
        raise BadResponse(
            f"the query returned {len(result)} series, expected one number "
            "(aggregate it, e.g. sum(...) or max(...))"
        )
    else:
        series = result[0]
        sample = series.get("value") if isinstance(series, Mapping) else None
    if not isinstance(sample, list) or len(sample) != 2:
        raise BadResponse("Prometheus sent a sample that is not [time, value]")
    value = parse.number(sample[1])
    if value is None:
        raise BadResponse(f"Prometheus sent a value that is not a number: {sample[1]!r}"[:200])
    return value if math.isfinite(value) else None


async def query_scalar(http: HttpBackend, promql: str, timeout: str | None) -> float | None:
    """POST ``promql`` as an instant query; its single number, or None for no data.

    Raises:
        BadResponse: see :func:`value_of`; BackendError: Prometheus failed.
    """
    form = {"query": promql, **({"timeout": timeout} if timeout else {})}
    _, body, _ = await http.request("POST", "/api/v1/query", data=form, ok=(400, 422))
    return value_of(await http.adecode(body))

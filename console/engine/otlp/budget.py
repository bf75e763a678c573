"""One memory budget for every OTLP body in flight, reserved before a body is read.

Why reserve up front: the receiver learns a body's size from ``Content-Length`` before
reading it, so concurrent bodies × size can be refused (503 + ``Retry-After``) before the
bytes take memory. Bodies whose size is not known in advance (chunked, or what gzip will
inflate to) reserve what is left, up to their limit, and are refused at the first byte
over it.
"""

from __future__ import annotations

from console.engine.otlp.http11 import HttpError


class MemoryBudget:
    """Bytes reserved by the bodies in flight, against ``total``.

    A body of at most ``small`` bytes is always let in (it is counted, so big ones see less
    room): a flood of big bodies must not starve the exporters that send small batches.
    Those are bounded apart, by connections × ``small``.
    """

    def __init__(self, total: int, small: int) -> None:
        self.total, self.small = total, small
        self.in_use = 0

    def reserve(self, exact: int | None, up_to: int) -> int:
        """Reserve ``exact`` bytes, or (None) what is left up to ``up_to`` but at least
        ``small``. Returns what was reserved. Raises HttpError(503, retryable) when that
        is not there, so the client retries later."""
        free = self.total - self.in_use
        got = exact if exact is not None else max(0, min(up_to, free))
        if exact is not None and exact <= self.small:
            pass
        elif got > free or (exact is None and got < min(up_to, self.small)):
            raise HttpError(
                503,
                f"receiver memory budget ({self.total} bytes) in use; retry later",
                close=True,
                retry=True,
            )
        self.in_use += got
        return got

    def release(self, n: int) -> None:
        """Give back ``n`` reserved bytes."""
        self.in_use -= n

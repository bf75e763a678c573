"""The spans of one synthetic trace: the healthy shape of a request, and each failure's story.

The error span of a failing trace is where production would put it: the statement timeout
on checkout-db after the bad deploy, the 429s from inventory, the 401 from the mail
provider, the refused connection to a dead cart shard, the 503 from bank-gateway.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from callboard_demo.fleet import Fleet, Profile
from callboard_demo.sim import mix64
from console.plugin_api import Function, Kind, Span

MS = 1_000_000


class SpanBuilder:
    """Collects the spans of one trace, handing out stable 16-hex span ids."""

    def __init__(self, trace_id: str, rng: random.Random, start_ns: int, fleet: Fleet) -> None:
        self.trace_id = trace_id
        self.rng = rng
        self.start_ns = start_ns
        self.fleet = fleet
        self.spans: list[Span] = []
        self._base = int(trace_id[16:], 16)

    def add(
        self,
        parent: str | None,
        service: str,
        name: str,
        start_ns: int,
        duration_ns: int,
        kind: str,
        status: str = "unset",
        message: str = "",
        attributes: Mapping[str, Any] | None = None,
        events: tuple[Mapping[str, Any], ...] = (),
    ) -> str:
        """Append one span; returns its id."""
        span_id = f"{mix64(self._base + len(self.spans) + 1) | 1:016x}"
        self.spans.append(Span(
            self.trace_id, span_id, parent, service, name, start_ns, max(duration_ns, 1000),
            kind, status, message, dict(attributes or {}), events,
        ))  # fmt: skip
        return span_id


def _exception(t_ns: int, etype: str, message: str) -> Mapping[str, Any]:
    return {"name": "exception", "time_ns": t_ns,
            "attributes": {"exception.type": etype, "exception.message": message}}  # fmt: skip


def span_name(fn: Function) -> str:
    """How instrumentation names the server-side span of ``fn``."""
    _, _, rest = fn.operation.partition(" ")
    if fn.kind is Kind.RPC:
        return f"{fn.service}.{fn.service.capitalize()}/{rest}"
    if fn.kind is Kind.WORKER:
        return f"{fn.service}.{rest} process"
    if fn.kind is Kind.SERVERLESS:
        return rest or fn.operation
    return fn.operation


def root_attributes(fn: Function) -> dict[str, Any]:
    word, _, rest = fn.operation.partition(" ")
    if fn.kind is Kind.HTTP:
        return {"http.method": word, "http.route": rest, "http.status_code": 200}
    if fn.kind is Kind.RPC:
        return {"rpc.system": "grpc", "rpc.service": f"{fn.service}.{fn.service.capitalize()}",
                "rpc.method": rest, "rpc.grpc.status_code": 0}  # fmt: skip
    if fn.kind is Kind.WORKER:
        return {"messaging.system": "kafka", "messaging.operation": "process",
                "messaging.destination.name": f"{fn.service}.{rest}"}  # fmt: skip
    if fn.kind is Kind.SERVERLESS:
        return {"faas.name": f"{fn.service}-{rest}", "faas.trigger": "http",
                "faas.coldstart": False, "cloud.provider": "aws"}  # fmt: skip
    return {"job.name": rest or fn.operation}


_ROOT_KIND = {Kind.HTTP: "server", Kind.RPC: "server", Kind.SERVERLESS: "server",
              Kind.WORKER: "consumer", Kind.JOB: "internal"}  # fmt: skip


def build_spans(b: SpanBuilder, fn: Function, p: Profile, story: str | None, blip: bool) -> None:
    """Fill ``b`` with the spans of one request to ``fn`` (``story``: a failure's key)."""
    rng, t0 = b.rng, b.start_ns
    dur = int(p.p50 * (0.6 + 1.2 * rng.random()) * MS)
    attrs = root_attributes(fn)
    special = _STORIES.get(story or "")
    if special is not None:
        special(b, fn, p, attrs)
        return
    root = b.add(None, fn.service, span_name(fn), t0, dur, _ROOT_KIND[fn.kind], attributes=attrs)
    _children(b, fn, root, t0, dur, blip)


def _children(b: SpanBuilder, fn: Function, root: str, t0: int, dur: int, blip: bool) -> int:
    """Calls to each dependency and to the datastore, laid out inside the root span."""
    rng = b.rng
    calls = list(fn.dependencies) + ([] if fn.kind is Kind.SERVERLESS else [f"{fn.service}-db"])
    cursor, share = t0 + dur // 20, (dur * 8 // 10) // max(1, len(calls))
    for i, dep in enumerate(calls):
        d = max(MS // 5, int(share * (0.5 + 0.4 * rng.random())))
        failed_first = blip and i == 0
        if failed_first:
            msg = "read: connection reset by peer"
            b.add(root, fn.service, _client_name(b, dep), cursor, d // 3, "client", "error", msg,
                  {"retry.attempt": 1, **_peer(b, dep)}, (_exception(cursor + d // 3, "ConnectionResetError", msg),))  # fmt: skip
            cursor += d // 3
        _call(b, fn, root, dep, cursor, d, {"retry.attempt": 2} if failed_first else {})
        cursor += d
    return cursor


def _client_name(b: SpanBuilder, dep: str) -> str:
    target = b.fleet.by_id.get(dep)
    if target is not None:
        return span_name(target)
    if dep.endswith("-db"):
        return "SELECT"
    return f"POST {dep}"


def _peer(b: SpanBuilder, dep: str) -> dict[str, Any]:
    if dep.endswith("-db"):
        return {"db.system": "postgresql", "db.name": dep, "server.address": f"{dep}.internal"}
    return {"peer.service": dep.split(":")[0]}


def _call(
    b: SpanBuilder,
    fn: Function,
    parent: str,
    dep: str,
    t: int,
    d: int,
    extra: Mapping[str, Any],
    status: str = "unset",
    message: str = "",
) -> str:
    attrs = {**_peer(b, dep), **extra}
    cid = b.add(parent, fn.service, _client_name(b, dep), t, d, "client", status, message, attrs)
    target = b.fleet.by_id.get(dep)
    if target is not None:
        b.add(cid, target.service, span_name(target), t + d // 10, d * 8 // 10, "server",
              attributes=root_attributes(target))  # fmt: skip
    return cid


# -- the failures' stories ------------------------------------------------------------------


def _checkout_timeout(b: SpanBuilder, fn: Function, p: Profile, attrs: dict[str, Any]) -> None:
    t0, dur = b.start_ns, 5050 * MS
    attrs.update({"http.status_code": 504, "service.version": "v2.14.0"})
    root = b.add(
        None, fn.service, span_name(fn), t0, dur, "server", "error", "504 Gateway Timeout", attrs
    )
    cursor = t0 + 2 * MS
    for dep in fn.dependencies:
        _call(b, fn, root, dep, cursor, 9 * MS, {})
        cursor += 9 * MS
    msg = "canceling statement due to statement timeout"
    b.add(root, fn.service, "SELECT fraud_scores", cursor, 5000 * MS, "client", "error", msg,
          {"db.system": "postgresql", "db.name": "checkout-db",
           "db.statement": "SELECT score FROM fraud_scores WHERE card_hash = $1"},
          (_exception(cursor + 5000 * MS, "QueryCanceled", msg),))  # fmt: skip


def _throttled(b: SpanBuilder, fn: Function, p: Profile, attrs: dict[str, Any]) -> None:
    t0, msg = b.start_ns, "RESOURCE_EXHAUSTED: rate limit exceeded for client orders-reserve-stock"
    attrs.update({"rpc.grpc.status_code": 8, "http.status_code": 429})
    root = b.add(None, fn.service, span_name(fn), t0, 2 * MS, "server", "error", msg, attrs)
    b.add(root, fn.service, "ratelimit.Check", t0 + MS // 10, MS, "internal", "error", "over limit",
          {"ratelimit.limit_rps": 400, "ratelimit.remaining": 0},
          ({"name": "rate_limited", "time_ns": t0 + MS, "attributes": {"client": "orders-reserve-stock"}},))  # fmt: skip


def _retry_storm(b: SpanBuilder, fn: Function, p: Profile, attrs: dict[str, Any]) -> None:
    t0, attempts = b.start_ns, 6
    root = b.add(None, fn.service, span_name(fn), t0, attempts * 4 * MS, "consumer", "error",
                 f"gave up after {attempts} attempts; message requeued", attrs)  # fmt: skip
    target = b.fleet.by_id.get("inventory:rpc Reserve")
    for i in range(attempts):  # no backoff: each retry starts as the last 429 lands
        t = t0 + i * 4 * MS
        cid = b.add(root, fn.service, "inventory.Inventory/Reserve", t, 3 * MS, "client", "error",
                    "429 Too Many Requests", {"peer.service": "inventory", "retry.attempt": i + 1,
                                              "http.status_code": 429})  # fmt: skip
        if target is not None:
            b.add(cid, "inventory", span_name(target), t + MS // 2, 2 * MS, "server", "error",
                  "RESOURCE_EXHAUSTED: rate limit exceeded",
                  {**root_attributes(target), "rpc.grpc.status_code": 8, "http.status_code": 429})  # fmt: skip


def _cold_start(b: SpanBuilder, fn: Function, p: Profile, attrs: dict[str, Any]) -> None:
    t0 = b.start_ns
    attrs.update({"faas.coldstart": True})
    root = b.add(None, fn.service, span_name(fn), t0, 1820 * MS, "server", attributes=attrs)
    b.add(root, fn.service, "init", t0 + MS, 1450 * MS, "internal",
          attributes={"faas.init": "load index shards", "faas.max_memory": 1024})  # fmt: skip
    b.add(root, fn.service, "query index", t0 + 1460 * MS, 340 * MS, "internal")


def _shard_down(b: SpanBuilder, fn: Function, p: Profile, attrs: dict[str, Any]) -> None:
    t0 = b.start_ns
    shard = "cart-6" if b.rng.random() < 0.5 else "cart-7"
    msg = f"Error 111 connecting to {shard}-redis:6379. Connection refused."
    attrs.update({"rpc.grpc.status_code": 14, "cart.shard": shard, "host.name": f"{shard}-0"})
    root = b.add(None, fn.service, span_name(fn), t0, 4 * MS, "server", "error",
                 f"UNAVAILABLE: shard {shard} unavailable", attrs)  # fmt: skip
    b.add(root, fn.service, "GET", t0 + MS // 2, 3 * MS, "client", "error", msg,
          {"db.system": "redis", "server.address": f"{shard}-redis", "server.port": 6379},
          (_exception(t0 + 3 * MS, "ConnectionError", msg),))  # fmt: skip


def _email_auth(b: SpanBuilder, fn: Function, p: Profile, attrs: dict[str, Any]) -> None:
    t0, msg = b.start_ns, "401 Unauthorized: the API key is invalid or has been revoked"
    root = b.add(None, fn.service, span_name(fn), t0, 95 * MS, "consumer", "error",
                 "provider rejected credentials; message dead-lettered", attrs)  # fmt: skip
    b.add(root, fn.service, "POST /v3/mail/send", t0 + 5 * MS, 85 * MS, "client", "error", msg,
          {"peer.service": "mail-provider", "http.method": "POST", "http.status_code": 401,
           "http.url": "https://api.mail-provider.example/v3/mail/send"},
          (_exception(t0 + 90 * MS, "SMTPAuthenticationError", msg),))  # fmt: skip


def _memory(b: SpanBuilder, fn: Function, p: Profile, attrs: dict[str, Any]) -> None:
    t0, chunk = b.start_ns, 900 * MS
    msg = "Unable to allocate 1.9 GiB for an array with shape (254803968,)"
    root = b.add(None, fn.service, span_name(fn), t0, 4 * chunk, "internal", "error", msg, attrs)
    for i in range(4):
        bad = i == 3
        b.add(root, fn.service, f"rollup chunk {i + 1}/4", t0 + i * chunk, chunk, "internal",
              "error" if bad else "unset", msg if bad else "", {"rows": 4_100_000 + 900_000 * i},
              (_exception(t0 + 4 * chunk, "MemoryError", msg),) if bad else ())  # fmt: skip


def _schema(b: SpanBuilder, fn: Function, p: Profile, attrs: dict[str, Any]) -> None:
    t0, msg = b.start_ns, "address.postal_code: field required"
    attrs.update({"http.status_code": 422, "service.version": "v3.8.0",
                  "user_agent.original": "shop-ios/4.1.0"})  # fmt: skip
    root = b.add(None, fn.service, span_name(fn), t0, 6 * MS, "server", attributes=attrs)
    b.add(root, fn.service, "validate ProfileUpdate", t0 + MS, 2 * MS, "internal", "error", msg,
          {"schema.version": "profile-v3.8.0"}, (_exception(t0 + 3 * MS, "ValidationError", msg),))  # fmt: skip


def _gateway_down(b: SpanBuilder, fn: Function, p: Profile, attrs: dict[str, Any]) -> None:
    t0, msg = b.start_ns, "503 Service Unavailable from bank-gateway"
    attrs.update({"rpc.grpc.status_code": 14})
    root = b.add(None, fn.service, span_name(fn), t0, 42 * MS, "server", "error",
                 "UNAVAILABLE: issuer unreachable", attrs)  # fmt: skip
    b.add(root, fn.service, "POST bank-gateway", t0 + 2 * MS, 38 * MS, "client", "error", msg,
          {"peer.service": "bank-gateway", "http.method": "POST", "http.status_code": 503,
           "http.url": "https://bank-gateway.example/v2/authorizations"},
          (_exception(t0 + 40 * MS, "GatewayUnavailable", msg),))  # fmt: skip


def _resize_loop(b: SpanBuilder, fn: Function, p: Profile, attrs: dict[str, Any]) -> None:
    t0, depth = b.start_ns, 2 + int(b.rng.random() * 4)
    key = "uploads/" + "resized/" * depth + f"IMG_{b.rng.randrange(1000, 9999)}.webp"
    attrs.update({"faas.trigger": "datasource", "aws.s3.key": key, "service.version": "v1.22.0"})
    root = b.add(None, fn.service, span_name(fn), t0, 380 * MS, "server", attributes=attrs)
    b.add(root, fn.service, "s3 PutObject", t0 + 300 * MS, 60 * MS, "producer",
          attributes={"aws.s3.bucket": "uploads", "aws.s3.key": "uploads/resized/" + key[8:]},
          events=({"name": "object written under the watched prefix: resize-image runs again",
                   "time_ns": t0 + 360 * MS, "attributes": {}},))  # fmt: skip


_STORIES = {
    "checkout-timeouts": _checkout_timeout,
    "inventory-throttling": _throttled,
    "reserve-stock-retry-storm": _retry_storm,
    "search-cold-starts": _cold_start,
    "cart-shard-down": _shard_down,
    "email-auth": _email_auth,
    "reports-memory": _memory,
    "profile-schema": _schema,
    "bank-gateway-outage": _gateway_down,
    "media-cost-runaway": _resize_loop,
}

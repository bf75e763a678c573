"""The default scenario: what is broken right now, why, and which action cures it.

Ten failures are active at once, one per failure mode. Each names its function, how long
ago it began, the numbers it pushes its function to (absolute values in ``set_to``,
multiples of the healthy baseline in ``times``) and a cure predicate over the applied
``Controls``. The recent changes (``CHANGES``) hold the bad deploys and a few harmless ones.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from callboard_demo.catalog import OVERRIDES
from callboard_demo.controls import Controls
from console.plugin_api import FailureMode

MIN = 60.0
HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Change:
    """A deploy or config change. ``target`` is a service, or one function id."""

    service: str
    target: str
    version: str
    previous: str
    age_s: float
    author: str
    description: str


#: Newest first per service. The first entry of a service is what ``rollback`` reverts.
CHANGES: tuple[Change, ...] = (
    Change("checkout", "checkout", "v2.14.0", "v2.13.2", 20 * MIN, "maya.chen",
           "pay: fraud-score lookup moved into the request path (sync query on checkout-db)"),
    Change("checkout", "checkout", "v2.13.2", "v2.13.1", 2 * DAY, "jon.berg", "bump dependencies"),
    Change("profile", "profile", "v3.8.0", "v3.7.9", 25 * MIN, "ines.garcia",
           "schema: address.postal_code is required on PUT /profile"),
    Change("profile", "profile", "v3.7.9", "v3.7.8", 2 * DAY, "ines.garcia", "avatar upload limits"),
    Change("notifications", "notifications", "config r42", "config r41", 45 * MIN,
           "secrets-rotator[bot]", "config: rotate smtp credentials"),
    Change("notifications", "notifications", "v7.2.3", "v7.2.2", 3 * DAY, "omar.haddad",
           "push: batch APNs sends"),
    Change("search", "search:serverless query", "config r118", "config r117", 2 * HOUR,
           "kim.tanaka", "autoscaling: min_instances 1 → 0 (cost saving)"),
    Change("search", "search", "v1.9.0", "v1.8.4", DAY, "kim.tanaka", "ranking: boost in-stock items"),
    Change("media", "media", "v1.22.0", "v1.21.3", 3 * HOUR, "zoe.martin",
           "resize: write webp variants back to the uploads bucket"),
    Change("media", "media", "v1.21.3", "v1.21.2", 4 * DAY, "zoe.martin", "transcode: av1 preset"),
    Change("orders", "orders", "v5.2.1", "v5.2.0", 3 * HOUR, "sam.okafor", "log order ids at debug"),
    Change("orders", "orders", "v5.2.0", "v5.1.9", 5 * DAY, "sam.okafor", "order export paging"),
    Change("inventory", "inventory", "v3.0.4", "v3.0.3", 5 * HOUR, "li.wei", "faster SKU lookups"),
    Change("payments", "payments", "v4.4.0", "v4.3.7", 6 * HOUR, "raj.patel", "bump grpc to 1.66"),
    Change("cart", "cart", "v1.31.0", "v1.30.2", DAY, "ana.souza", "cart: merge guest carts on login"),
    Change("reports", "reports", "v0.9.3", "v0.9.2", 4 * DAY, "eva.lindqvist", "revenue by region"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Failure:
    """One active failure of the scenario."""

    key: str
    mode: FailureMode
    function_id: str
    age_s: float
    severity: str
    alert: str
    summary: str
    cause: str
    cured: Callable[[Controls], bool]
    set_to: Mapping[str, float] = field(default_factory=dict)
    times: Mapping[str, float] = field(default_factory=dict)
    dependency_errors: Mapping[str, float] = field(default_factory=dict)


RESERVE_STOCK = "orders:worker reserve-stock"
RESERVE = "inventory:rpc Reserve"
RESIZE = "media:serverless resize-image"
#: A throttle cures a storm or a runaway when it caps traffic at this many × baseline.
THROTTLE_CURES_AT = 2.0


def _rolled_back(service: str, version: str) -> Callable[[Controls], bool]:
    return lambda c: c.is_reverted(service, version)


def _storm_over(c: Controls) -> bool:
    """The reserve-stock storm ends when the caller is throttled or its circuit is open."""
    rps = c.throttled_to(RESERVE_STOCK)
    return (
        rps is not None and rps <= THROTTLE_CURES_AT * OVERRIDES[RESERVE_STOCK]["rate"]
    ) or c.circuit_open(RESERVE_STOCK, RESERVE)


def _resize_capped(c: Controls) -> bool:
    rps = c.throttled_to(RESIZE)
    return (
        rps is not None and rps <= THROTTLE_CURES_AT * OVERRIDES[RESIZE]["rate"]
    ) or c.is_reverted("media", "v1.22.0")


FAILURES: tuple[Failure, ...] = (
    Failure(
        "checkout-timeouts", FailureMode.F1, "checkout:POST /pay", 20 * MIN, "page",
        "CheckoutPayTimeouts", "POST /pay times out: 8.5% of payments exceed 5 s since checkout v2.14.0",
        "checkout v2.14.0 runs a fraud-score query on checkout-db inside the request; it has no "
        "index and hits the 5 s statement timeout",
        _rolled_back("checkout", "v2.14.0"),
        set_to={"timeout": 0.085, "p95": 2600.0, "p99": 5050.0}, times={"p50": 2.8},
    ),
    Failure(
        "inventory-throttling", FailureMode.F2, RESERVE, 35 * MIN, "page",
        "InventoryReserveThrottled", "inventory rpc Reserve rejects 34% of calls with 429 (rate limit)",
        "the reserve-stock retry storm exceeds inventory's per-client rate limit",
        _storm_over,
        set_to={"throttle": 0.34, "cpu": 0.78}, times={"rate": 4.2, "p99": 1.4, "p95": 1.2},
    ),
    Failure(
        "reserve-stock-retry-storm", FailureMode.F3, RESERVE_STOCK, 35 * MIN, "page",
        "ReserveStockRetryStorm", "orders reserve-stock retries 64% of its calls; traffic 4.5× normal",
        "reserve-stock retries every 429 from inventory at once, without backoff or jitter",
        _storm_over,
        set_to={"retry": 0.64}, times={"rate": 4.5, "queue": 2.5, "p99": 1.8},
    ),
    Failure(
        "search-cold-starts", FailureMode.F4, "search:serverless query", 2 * HOUR, "ticket",
        "SearchQueryColdStarts", "search query: 32% of invocations start cold; p99 1.9 s",
        "config r118 set min_instances to 0, so every burst after a quiet minute starts cold",
        lambda c: c.min_instances.get("search:serverless query", 0) >= 1
        or c.is_reverted("search", "config r118"),
        set_to={"cold": 0.32, "p99": 1900.0, "p95": 1100.0}, times={"p50": 1.3},
    ),
    Failure(
        "cart-shard-down", FailureMode.F5, "cart:rpc GetCart", 15 * MIN, "page",
        "CartShardErrors", "2 of 8 cart shards (cart-6, cart-7) fail; 7% of GetCart calls return 5xx",
        "cart-6 and cart-7 lost their Redis replica after a node failure and refuse reads",
        lambda c: "cart:rpc GetCart" in c.restarted,
        set_to={"failing": 0.25, "err5xx": 0.07},
    ),
    Failure(
        "email-auth", FailureMode.F6, "notifications:worker email-send", 45 * MIN, "page",
        "EmailProviderUnauthorized", "email-send: the mail provider answers 401 to 91% of sends",
        "config r42 rotated the SMTP API key; running workers still hold the revoked key",
        lambda c: "notifications:worker email-send" in c.restarted
        or c.is_reverted("notifications", "config r42"),
        set_to={"auth": 0.91},
    ),
    Failure(
        "reports-memory", FailureMode.F7, "reports:job nightly", 40 * MIN, "page",
        "ReportsNightlyMemory", "reports nightly job at 97.5% memory, GC thrashing",
        "Q4 order volume doubled the nightly rollup, which loads a whole day into memory",
        lambda c: c.replicas.get("reports:job nightly", 1) >= 2,
        set_to={"memory": 0.975, "cpu": 0.74}, times={"p99": 1.8, "p95": 1.5},
    ),
    Failure(
        "profile-schema", FailureMode.F8, "profile:PUT /profile", 25 * MIN, "page",
        "ProfileUpdate422", "PUT /profile rejects 14% of updates with 422 since profile v3.8.0",
        "profile v3.8.0 requires address.postal_code; mobile app 4.1 does not send it",
        _rolled_back("profile", "v3.8.0"),
        set_to={"serial": 0.14},
    ),
    Failure(
        "bank-gateway-outage", FailureMode.F9, "payments:rpc Authorize", 12 * MIN, "page",
        "BankGatewayDown", "bank-gateway fails 64% of calls; 7.7% of authorizations fail",
        "bank-gateway (acquirer for EU debit cards) is down: its status page reports an incident",
        lambda c: c.circuit_open("payments:rpc Authorize", "bank-gateway"),
        set_to={"err5xx": 0.077}, times={"p99": 1.6},
        dependency_errors={"bank-gateway": 0.64},
    ),
    Failure(
        "media-cost-runaway", FailureMode.F10, RESIZE, 3 * HOUR, "ticket",
        "MediaResizeCostRunaway", "resize-image costs 6× its usual per 1k requests since media v1.22.0",
        "v1.22.0 writes resized images back to the uploads bucket, which triggers resize again",
        _resize_capped,
        times={"cost": 6.0, "rate": 4.0, "p50": 1.2},
    ),
)  # fmt: skip

#: Every function the scenario needs, kept first when the fleet is trimmed.
SCENARIO_FUNCTIONS: frozenset[str] = frozenset(f.function_id for f in FAILURES)


_BY_SERVICE: dict[str, list[Change]] = {}
for _c in CHANGES:
    _BY_SERVICE.setdefault(_c.service, []).append(_c)


def changes_for(seed: int, service: str, owner: str) -> list[Change]:
    """The service's recent changes, newest first: the story's, or two routine releases."""
    story = _BY_SERVICE.get(service)
    if story is not None:
        return story
    h = zlib.crc32(f"{seed}:{service}".encode())
    major, minor, patch = 1 + h % 5, (h >> 3) % 30, 2 + (h >> 8) % 8
    age = DAY * (1 + (h >> 12) % 12)
    author = f"{owner}-release[bot]"
    v = [f"v{major}.{minor}.{patch - i}" for i in range(3)]
    return [
        Change(service, service, v[0], v[1], age, author, "routine release"),
        Change(service, service, v[1], v[2], age + 7 * DAY, author, "routine release"),
    ]  # fmt: skip

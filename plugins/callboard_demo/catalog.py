"""The demo company: its services, owners, operations and the baselines its story needs.

Plain tables, no logic. ``fleet.py`` turns them into Functions and healthy profiles.
"""

from __future__ import annotations

from console.plugin_api import Kind

#: The actions the demo carries out (``actions.plan_action`` plans them; kept here so the
#: plugin class names them without importing the planner before the first action).
ACTIONS: frozenset[str] = frozenset(
    {
        "rollback",
        "throttle",
        "circuit_open",
        "circuit_close",
        "scale",
        "silence",
        "restart",
        "annotate",
    }
)

#: service -> (owner team, [(operation, kind, tier, dependency ids)]).
BASE_SERVICES: dict[str, tuple[str, list[tuple[str, Kind, int, tuple[str, ...]]]]] = {
    "checkout": ("storefront", [
        ("POST /pay", Kind.HTTP, 1, ("cart:rpc GetCart", "payments:rpc Authorize", "profile:rpc GetUser")),
        ("GET /checkout", Kind.HTTP, 1, ("cart:rpc GetCart", "checkout:rpc Quote")),
        ("POST /checkout/confirm", Kind.HTTP, 1, ("orders:POST /orders", "payments:rpc Capture")),
        ("rpc Quote", Kind.RPC, 2, ("inventory:GET /stock/{sku}",)),
        ("worker checkout-expiry", Kind.WORKER, 3, ("cart:rpc GetCart",)),
    ]),
    "cart": ("storefront", [
        ("GET /cart", Kind.HTTP, 1, ("cart:rpc GetCart",)),
        ("POST /cart/items", Kind.HTTP, 1, ("cart:rpc GetCart", "inventory:GET /stock/{sku}")),
        ("DELETE /cart/items", Kind.HTTP, 2, ("cart:rpc GetCart",)),
        ("rpc GetCart", Kind.RPC, 1, ()),
        ("worker cart-cleanup", Kind.WORKER, 3, ()),
    ]),
    "payments": ("payments", [
        ("rpc Authorize", Kind.RPC, 1, ("bank-gateway",)),
        ("rpc Capture", Kind.RPC, 1, ()),
        ("rpc Refund", Kind.RPC, 2, ()),
        ("POST /webhooks/psp", Kind.HTTP, 2, ("payments:rpc Capture",)),
        ("worker settlement", Kind.WORKER, 2, ()),
        ("job reconcile-ledger", Kind.JOB, 3, ()),
    ]),
    "orders": ("fulfilment", [
        ("POST /orders", Kind.HTTP, 1, ("profile:rpc GetUser",)),
        ("GET /orders/{id}", Kind.HTTP, 2, ()),
        ("worker reserve-stock", Kind.WORKER, 1, ("inventory:rpc Reserve",)),
        ("worker order-events", Kind.WORKER, 2, ()),
        ("job export-orders", Kind.JOB, 3, ()),
    ]),
    "inventory": ("fulfilment", [
        ("rpc Reserve", Kind.RPC, 1, ()),
        ("rpc Release", Kind.RPC, 2, ()),
        ("GET /stock/{sku}", Kind.HTTP, 2, ()),
        ("worker restock-sync", Kind.WORKER, 3, ()),
        ("job stock-audit", Kind.JOB, 3, ()),
    ]),
    "search": ("discovery", [
        ("serverless query", Kind.SERVERLESS, 1, ()),
        ("GET /search", Kind.HTTP, 1, ("search:serverless query", "search:rpc Rank")),
        ("GET /suggest", Kind.HTTP, 2, ()),
        ("rpc Rank", Kind.RPC, 2, ()),
        ("worker index-update", Kind.WORKER, 2, ()),
        ("job reindex", Kind.JOB, 3, ()),
    ]),
    "notifications": ("growth", [
        ("worker email-send", Kind.WORKER, 2, ()),
        ("worker push-send", Kind.WORKER, 2, ()),
        ("serverless sms-send", Kind.SERVERLESS, 3, ()),
        ("POST /preferences", Kind.HTTP, 3, ()),
    ]),
    "profile": ("growth", [
        ("PUT /profile", Kind.HTTP, 1, ()),
        ("GET /profile", Kind.HTTP, 1, ("profile:rpc GetUser",)),
        ("rpc GetUser", Kind.RPC, 1, ()),
        ("POST /avatar", Kind.HTTP, 3, ("media:serverless resize-image",)),
    ]),
    "media": ("platform", [
        ("serverless resize-image", Kind.SERVERLESS, 2, ()),
        ("serverless transcode", Kind.SERVERLESS, 3, ()),
        ("GET /media/{id}", Kind.HTTP, 2, ()),
        ("worker cdn-purge", Kind.WORKER, 3, ()),
    ]),
    "reports": ("platform", [
        ("job nightly", Kind.JOB, 3, ()),
        ("job weekly-revenue", Kind.JOB, 3, ()),
        ("GET /reports/{id}", Kind.HTTP, 3, ()),
        ("worker report-render", Kind.WORKER, 3, ()),
    ]),
}  # fmt: skip

#: Dependencies outside the fleet (third parties): they have no Function of their own.
EXTERNAL_DEPENDENCIES = frozenset({"bank-gateway"})

#: Healthy baselines the scenario's story needs exactly (the rest are drawn from the seed).
OVERRIDES: dict[str, dict[str, float]] = {
    "checkout:POST /pay": {"rate": 42.0, "p50": 48.0, "p95": 160.0, "p99": 340.0},
    "orders:worker reserve-stock": {"rate": 50.0, "queue": 40.0},
    "inventory:rpc Reserve": {"rate": 56.0},
    # Scaled to zero by the config change the scenario blames for the cold starts.
    "search:serverless query": {"rate": 35.0, "p99": 420.0, "replicas": 0},
    "reports:job nightly": {"rate": 1.5, "memory": 0.62, "replicas": 1},
    "media:serverless resize-image": {"rate": 12.0, "cost": 0.085},
    "cart:rpc GetCart": {"instances": 8},
}

#: Latency objectives (p99 ms) beyond the tier-1 HTTP default.
LATENCY_SLO: dict[str, float] = {"search:serverless query": 2500.0}

PEOPLE = ("maya.chen", "tomas.novak", "priya.nair", "jon.berg", "ana.souza", "li.wei",
           "sam.okafor", "eva.lindqvist", "raj.patel", "kim.tanaka", "noah.fischer",
           "ines.garcia", "omar.haddad", "zoe.martin", "yuki.sato", "lena.kowalski")  # fmt: skip
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1")
EXTRA_TEAMS = ("identity", "data", "mobile", "logistics", "trust", "finance", "ml", "edge")
EXTRA_NOUNS = ("ledger", "billing", "shipping", "pricing", "catalog", "reviews", "loyalty",
                "fraud", "tax", "warehouse", "returns", "sessions", "gateway", "coupons",
                "wishlist", "ratings", "geo", "ads", "analytics", "messaging", "files", "tenants",
                "invoices", "subscriptions", "quotes", "carriers", "vendors", "audit")  # fmt: skip

#: kind -> ranges of (rate rps, p50 ms); spreads p95/p99 derive from p50.
KIND_RANGES: dict[Kind, tuple[tuple[float, float], tuple[float, float]]] = {
    Kind.HTTP: ((5.0, 300.0), (15.0, 80.0)),
    Kind.RPC: ((10.0, 400.0), (2.0, 15.0)),
    Kind.SERVERLESS: ((0.5, 80.0), (40.0, 200.0)),
    Kind.WORKER: ((2.0, 120.0), (20.0, 400.0)),
    Kind.JOB: ((0.2, 5.0), (200.0, 3000.0)),
}
OBJECTIVE = {1: 0.999, 2: 0.995, 3: 0.99}

GENERATED_OPS: dict[Kind, tuple[str, ...]] = {
    Kind.HTTP: ("GET /{n}", "POST /{n}", "GET /{n}/{{id}}", "PUT /{n}/{{id}}", "DELETE /{n}/{{id}}"),
    Kind.RPC: ("rpc Get{N}", "rpc List{N}", "rpc Update{N}"),
    Kind.WORKER: ("worker {n}-sync", "worker {n}-events"),
    Kind.SERVERLESS: ("serverless {n}-render", "serverless {n}-webhook"),
    Kind.JOB: ("job {n}-export", "job {n}-compaction"),
}  # fmt: skip
GENERATED_KINDS = (
    Kind.HTTP,
    Kind.HTTP,
    Kind.HTTP,
    Kind.RPC,
    Kind.RPC,
    Kind.WORKER,
    Kind.SERVERLESS,
    Kind.JOB,
)

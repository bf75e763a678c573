"""The Alertmanager plugin: active alerts, and silences as a reversible action.

Config keys (besides ``name``/``plugin``): ``url`` (required), ``auth``, ``headers``,
``tls_verify``, ``ca_file`` (see :mod:`console.engine.httpbackend`); ``label_map``
(role → label names for ``function``, ``service``, ``route``, ``method``; defaults to the
prometheus presets' identity labels); ``filter`` (matchers applied to every alert query,
e.g. ``['team="payments"']``); ``receiver`` (regex); ``created_by`` (default
``callboard``); ``max_duration`` (longest silence allowed, default ``7d``).

Actions: ``silence`` (params ``duration`` = ``2h`` by default, optional ``matchers``,
``alertname``, ``comment``) and ``unsilence`` (param ``silence_id``), its undo.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from console.core.model import ActionPlan, ActionRequest, ActionResult, Alert, BackendStatus
from console.core.slo import parse_window
from console.engine.httpbackend import HttpBackend
from console.errors import ActionError, BackendError, ConfigError
from console.plugin_api import PluginContext

from . import parse


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _seconds(value: Any, what: str, error: type[Exception]) -> float:
    try:
        return parse_window(str(value))
    except ValueError as exc:
        raise error(f"{what}: {exc}") from None


class AlertmanagerPlugin:
    """Alerts and silence/unsilence actions against Alertmanager's API v2."""

    actions: ClassVar[frozenset[str]] = frozenset({"silence", "unsilence"})

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        self.name = name
        self.ctx = ctx
        self.http = HttpBackend(options, ctx.http, ctx.secret)
        label_map = dict(parse.DEFAULT_LABEL_MAP)
        raw = options.get("label_map") or {}
        if not isinstance(raw, Mapping):
            raise ConfigError("label_map: expected a mapping of role to label names")
        for role, names in raw.items():
            if role not in parse.DEFAULT_LABEL_MAP:
                raise ConfigError(
                    f"label_map: unknown role {role!r} (expected {', '.join(parse.DEFAULT_LABEL_MAP)})"
                )
            label_map[role] = (names,) if isinstance(names, str) else tuple(names)
        self.label_map = label_map
        filters = options.get("filter") or []
        self.filters = [filters] if isinstance(filters, str) else list(filters)
        self.receiver = options.get("receiver")
        self.created_by = str(options.get("created_by", "callboard"))
        self.max_s = _seconds(options.get("max_duration", "7d"), "max_duration", ConfigError)

    async def check(self) -> BackendStatus:
        """Probe ``/api/v2/status``."""
        started = time.perf_counter()
        try:
            status = await self.http.get_json("/api/v2/status")
        except BackendError as exc:
            return BackendStatus(self.name, "alertmanager", ok=False, error=str(exc))
        ms = round((time.perf_counter() - started) * 1000.0, 1)
        cluster = status.get("cluster", {}) if isinstance(status, Mapping) else {}
        warn = (
            ()
            if cluster.get("status") in (None, "ready", "disabled")
            else (f"cluster {cluster.get('status')}",)
        )
        return BackendStatus(self.name, "alertmanager", ok=True, latency_ms=ms, warnings=warn)

    async def alerts(self) -> list[Alert]:
        """Active, unsilenced alerts (one request)."""
        params: list[tuple[str, str]] = [("active", "true"), ("silenced", "false")]
        params += [("filter", f) for f in self.filters]
        if self.receiver:
            params.append(("receiver", str(self.receiver)))
        payload = await self.http.get_json("/api/v2/alerts", params=params)
        return parse.alerts(payload, self.label_map, self.name)

    # -- actions ----------------------------------------------------------------------

    async def plan(self, request: ActionRequest) -> ActionPlan:
        """The exact silence to create (matchers, window) or the silence to expire."""
        if request.action == "silence":
            return await self._plan_silence(request)
        if request.action == "unsilence":
            return await self._plan_unsilence(request)
        raise ActionError(f"alertmanager cannot {request.action!r} (it can: silence, unsilence)")

    async def _plan_silence(self, request: ActionRequest) -> ActionPlan:
        p = request.params
        seconds = _seconds(p.get("duration", "2h"), "duration", ActionError)
        if seconds > self.max_s:
            raise ActionError(f"duration {p.get('duration')} is longer than max_duration")
        try:
            if p.get("matchers"):
                raw = p["matchers"]
                matchers = [parse.matcher(m) for m in ([raw] if isinstance(raw, str) else raw)]
            else:
                firing = [a for a in await self.alerts() if a.function_id == request.function_id]
                matchers = parse.identity_matchers(request.function_id, firing, self.label_map)
            if p.get("alertname"):
                matchers.insert(
                    0, parse.matcher({"name": "alertname", "value": str(p["alertname"])})
                )
        except ValueError as exc:
            raise ActionError(str(exc)) from None
        now = self.ctx.clock()
        body = {
            "matchers": matchers,
            "startsAt": _iso(now),
            "endsAt": _iso(now + seconds),
            "createdBy": self.created_by,
            "comment": str(
                p.get("comment") or request.reason or f"callboard: {request.function_id}"
            ),
        }
        shown = ", ".join(parse.show_matcher(m) for m in matchers)
        return ActionPlan(
            request=request,
            backend=self.name,
            summary=f"silence alerts matching {{{shown}}} for {p.get('duration', '2h')}",
            changes=(f"create silence {{{shown}}} from {body['startsAt']} to {body['endsAt']}",),
            mutates=True,
            details={"silence": body},
        )

    async def _plan_unsilence(self, request: ActionRequest) -> ActionPlan:
        sid = str(request.params.get("silence_id") or "")
        if not sid:
            raise ActionError("unsilence needs the param silence_id")
        try:
            found = await self.http.get_json(f"/api/v2/silence/{quote(sid, safe='')}")
        except BackendError as exc:
            raise ActionError(f"no silence {sid} on {self.name}: {exc}") from None
        matchers = found.get("matchers", []) if isinstance(found, Mapping) else []
        shown = ", ".join(
            parse.show_matcher(m)
            for m in matchers
            if isinstance(m, Mapping) and "name" in m and "value" in m and "isRegex" in m
        )
        return ActionPlan(
            request=request,
            backend=self.name,
            summary=f"expire silence {sid} {{{shown}}}",
            changes=(f"expire silence {sid}",),
            mutates=True,
            details={"silence_id": sid},
        )

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Create or expire the planned silence. Raises: ActionError, BackendError."""
        if plan.request.action == "silence":
            _, body, _ = await self.http.request(
                "POST", "/api/v2/silences", json_body=plan.details["silence"]
            )
            data = self.http.decode(body)
            sid = data.get("silenceID") if isinstance(data, Mapping) else None
            if not isinstance(sid, str) or not sid:
                raise ActionError("Alertmanager created no silence id")
            undo = {
                "action": "unsilence",
                "function_id": plan.request.function_id,
                "params": {"silence_id": sid},
            }
            return ActionResult(
                plan,
                ok=True,
                message=f"silence {sid} created",
                details={"silence_id": sid, "undo": undo},
            )
        if plan.request.action == "unsilence":
            sid = str(plan.details["silence_id"])
            try:
                await self.http.request("DELETE", f"/api/v2/silence/{quote(sid, safe='')}")
            except BackendError as exc:
                raise ActionError(f"could not expire silence {sid}: {exc}") from None
            return ActionResult(
                plan, ok=True, message=f"silence {sid} expired", details={"silence_id": sid}
            )
        raise ActionError(f"alertmanager cannot {plan.request.action!r}")

    async def aclose(self) -> None:
        await self.http.aclose()

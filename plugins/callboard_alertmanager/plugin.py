"""The Alertmanager plugin: active alerts, and silences as a reversible action.

Config keys (besides ``name``/``plugin``): ``url`` (required), ``auth``, ``headers``,
``tls_verify``, ``ca_file`` (see :mod:`console.engine.fleet.httpbackend`); ``label_map``
(role → label names for ``function``, ``service``, ``route``, ``method``, ``slo``; the
defaults recognise the prometheus presets, Sloth and Pyrra, see :mod:`.parse`); ``filter`` (matchers applied to every alert query,
e.g. ``['team="payments"']``); ``receiver`` (regex); ``created_by`` (default
``callboard``); ``max_duration`` (longest silence allowed, default ``7d``).

Actions: ``silence`` (params ``duration`` = ``2h`` by default — ``20m``, ``1200s`` or a
number of seconds; optional ``matchers``, ``alertname`` (or ``alert``), ``comment``) and
``unsilence`` (param ``silence_id`` or ``silence_ids``), its undo. Without ``matchers`` a
silence matches the function's firing alerts on their own labels (``alertname`` plus
the labels the label map found, see :mod:`.silences`) and refuses when none fires;
after creating it the plugin reads the alerts back and says whether they are muted.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from console.core.durations import parse_duration
from console.core.model import ActionPlan, ActionRequest, ActionResult, Alert, BackendStatus
from console.engine.fleet.httpbackend import HTTP_OPTIONS, HttpBackend
from console.errors import ActionError, BackendError, ConfigError
from console.plugin_api import Option, PluginContext, check_options

from . import parse, silences


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _seconds(value: Any, what: str, error: type[Exception]) -> float:
    """Seconds in ``"20m"``, ``"1200s"``, ``1200`` or ``"1200.0"`` (a bare number is seconds)."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise error(f"{what}: {exc}") from None


class AlertmanagerPlugin:
    """Alerts and silence/unsilence actions against Alertmanager's API v2."""

    actions: ClassVar[frozenset[str]] = frozenset({"silence", "unsilence"})
    OPTIONS: ClassVar[tuple[Option, ...]] = (
        *HTTP_OPTIONS,
        Option("label_map", "dict", "role → label names (function, service, route, method, slo)"),
        Option("filter", "str|list", 'matchers applied to every alert query, e.g. team="pay"'),
        Option("receiver", "str", "only alerts routed to receivers matching this regex"),
        Option("created_by", "str", "the author of the silences created", default="callboard"),
        Option("max_duration", "duration", "the longest silence allowed", default="7d"),
    )

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        check_options("alertmanager", self.OPTIONS, options)
        self.name = name
        self.ctx = ctx
        self.http = HttpBackend(options, ctx.http, ctx.secret)
        #: Where the backend lives, for error text (``plugin_api.Located``).
        self.url = self.http.url
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
        """Active alerts, silenced ones included (marked ``silenced`` until the silence
        ends): one request, plus one for the silences' end times when any is silenced."""
        params: list[tuple[str, str]] = [("active", "true")]
        params += [("filter", f) for f in self.filters]
        if self.receiver:
            params.append(("receiver", str(self.receiver)))
        payload = await self.http.get_json("/api/v2/alerts", params=params)
        ends: dict[str, str] = {}
        if parse.silenced_ids(payload):
            ends = parse.silence_ends(await self.http.get_json("/api/v2/silences"))
        return parse.alerts(payload, self.label_map, self.name, ends)

    # -- actions ----------------------------------------------------------------------

    async def plan(self, request: ActionRequest) -> ActionPlan:
        """The exact silences to create (matchers, window) or the silences to expire."""
        if request.action == "silence":
            return await self._plan_silence(request)
        if request.action == "unsilence":
            return await self._plan_unsilence(request)
        raise ActionError(f"alertmanager cannot {request.action!r} (it can: silence, unsilence)")

    async def _matcher_sets(self, request: ActionRequest) -> tuple[list[list[dict]], list[str]]:
        """(matcher lists, names of the alerts they are for): explicit ``matchers``, else
        the function's firing alerts' own labels."""
        p = request.params
        name = p.get("alertname") or p.get("alert")
        try:
            if p.get("matchers"):
                raw = p["matchers"]
                ms = [parse.matcher(m) for m in ([raw] if isinstance(raw, str) else raw)]
                if name:
                    ms.insert(0, parse.matcher({"name": "alertname", "value": str(name)}))
                return [ms], []
        except ValueError as exc:
            raise ActionError(str(exc)) from None
        known = await self.alerts()
        firing = silences.targets(request.function_id, known, str(name) if name else None)
        if not firing:
            muted = [
                f"{a.name} (silenced until {a.silenced_until or '?'})"
                for a in silences.on_function(request.function_id, known)
                if a.state == "silenced"
            ]
            why = f"; already silenced: {', '.join(muted)}" if muted else ""
            raise ActionError(
                f"nothing to silence: no alert{f' {name}' if name else ''} fires on"
                f" {request.function_id} in {self.name}{why} (give `matchers` to silence"
                " ahead of an alert)"
            )
        return silences.matcher_sets(firing), sorted({a.name for a in firing})

    async def _plan_silence(self, request: ActionRequest) -> ActionPlan:
        p = request.params
        seconds = _seconds(p.get("duration", "2h"), "duration", ActionError)
        if seconds <= 0:
            raise ActionError(f"duration must be positive, got {p.get('duration')!r}")
        if seconds > self.max_s:
            raise ActionError(f"duration {p.get('duration')} is longer than max_duration")
        sets, names = await self._matcher_sets(request)
        now = self.ctx.clock()
        comment = str(p.get("comment") or request.reason or f"callboard: {request.function_id}")
        bodies = [
            {
                "matchers": ms,
                "startsAt": _iso(now),
                "endsAt": _iso(now + seconds),
                "createdBy": self.created_by,
                "comment": comment,
            }
            for ms in sets
        ]
        shown = ["{" + ", ".join(parse.show_matcher(m) for m in ms) + "}" for ms in sets]
        window = silences.window_text(seconds)
        what = f" ({', '.join(names)})" if names else ""
        return ActionPlan(
            request=request,
            backend=self.name,
            summary=f"silence alerts matching {' and '.join(shown)} for {window}{what}",
            changes=tuple(
                f"create silence {m} from {b['startsAt']} to {b['endsAt']}"
                for m, b in zip(shown, bodies, strict=True)
            ),
            mutates=True,
            details={"silence": bodies[0], "silences": bodies, "alerts": names},
        )

    async def _plan_unsilence(self, request: ActionRequest) -> ActionPlan:
        raw = request.params.get("silence_ids") or request.params.get("silence_id") or ""
        ids = [str(x) for x in ([raw] if isinstance(raw, str) else raw) if str(x)]
        if not ids:
            raise ActionError("unsilence needs the param silence_id")
        shown = []
        for sid in ids:
            try:
                found = await self.http.get_json(f"/api/v2/silence/{quote(sid, safe='')}")
            except BackendError as exc:
                raise ActionError(f"no silence {sid} on {self.name}: {exc}") from None
            matchers = found.get("matchers", []) if isinstance(found, Mapping) else []
            shown.append(
                f"{sid} {{"
                + ", ".join(
                    parse.show_matcher(m)
                    for m in matchers
                    if isinstance(m, Mapping) and "name" in m and "value" in m and "isRegex" in m
                )
                + "}"
            )
        return ActionPlan(
            request=request,
            backend=self.name,
            summary=f"expire silence {' and '.join(shown)}",
            changes=tuple(f"expire silence {sid}" for sid in ids),
            mutates=True,
            details={"silence_id": ids[0], "silence_ids": ids},
        )

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Create or expire the planned silences; a created silence is read back from
        Alertmanager to say whether it mutes the alerts now. Raises: ActionError,
        BackendError."""
        if plan.request.action == "silence":
            return await self._silence(plan)
        if plan.request.action == "unsilence":
            ids = [str(x) for x in plan.details.get("silence_ids") or [plan.details["silence_id"]]]
            for sid in ids:
                try:
                    await self.http.request("DELETE", f"/api/v2/silence/{quote(sid, safe='')}")
                except BackendError as exc:
                    raise ActionError(f"could not expire silence {sid}: {exc}") from None
            return ActionResult(
                plan,
                ok=True,
                message=f"silence {', '.join(ids)} expired",
                details={"silence_id": ids[0], "silence_ids": ids},
            )
        raise ActionError(f"alertmanager cannot {plan.request.action!r}")

    async def _silence(self, plan: ActionPlan) -> ActionResult:
        bodies = plan.details.get("silences") or [plan.details["silence"]]
        ids: list[str] = []
        for body in bodies:
            try:
                _, raw, _ = await self.http.request("POST", "/api/v2/silences", json_body=body)
                data = self.http.decode(raw)
                sid = data.get("silenceID") if isinstance(data, Mapping) else None
                if not isinstance(sid, str) or not sid:
                    raise ActionError("Alertmanager created no silence id")
            except (BackendError, ActionError) as exc:
                # all or nothing: a half-made change would have no undo on the record
                await self._expire_quietly(ids)
                undone = f" (expired the {len(ids)} already created)" if ids else ""
                raise ActionError(f"could not create the silence: {exc}{undone}") from None
            ids.append(sid)
        notes = []
        muted_all: list[str] = []
        for sid, body in zip(ids, bodies, strict=True):
            params = [("filter", silences.filter_param(m)) for m in body["matchers"]]
            try:
                found = await self.http.get_json("/api/v2/alerts", params=params)
            except BackendError as exc:
                notes.append(f"silence {sid} created; could not read the alerts back: {exc}")
                continue
            muted, loud = silences.read_back(found, sid)
            muted_all += muted
            if muted and not loud:
                notes.append(f"silence {sid} created: now suppressed {', '.join(muted)}")
            elif muted:
                notes.append(
                    f"silence {sid} created: now suppressed {', '.join(muted)};"
                    f" still not suppressed {', '.join(loud)}"
                )
            else:
                notes.append(f"silence {sid} created, but it suppresses no alert right now")
        undo = {
            "action": "unsilence",
            "function_id": plan.request.function_id,
            "params": {"silence_id": ids[0], "silence_ids": ids},
        }
        return ActionResult(
            plan,
            ok=True,
            message="; ".join(notes),
            details={
                "silence_id": ids[0],
                "silence_ids": ids,
                "suppressed": muted_all,
                "undo": undo,
            },
        )

    async def _expire_quietly(self, ids: list[str]) -> None:
        for sid in ids:
            with contextlib.suppress(BackendError):
                await self.http.request("DELETE", f"/api/v2/silence/{quote(sid, safe='')}")

    async def aclose(self) -> None:
        await self.http.aclose()

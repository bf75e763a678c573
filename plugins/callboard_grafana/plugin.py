"""The Grafana plugin: annotations (the ``Annotations`` capability, and the same as the
runbook action ``annotate``), posted to ``/api/annotations``.

Config keys (besides ``name``/``plugin``): ``url`` (required); ``token`` — the API token
or service-account token, given as ``{secret: NAME}`` (resolved from the keyring or
``CALLBOARD_SECRET_<NAME>``, never written anywhere) or ``token_secret: NAME``;
``dashboard_uid`` and ``panel_id`` (optional defaults); ``tags`` (extra tags on every
annotation); ``auto_annotate`` (default true: incident status changes and every runbook
action taken during an incident are posted automatically, see
:mod:`console.engine.runbooks.annotations`).

Action ``annotate`` params: ``text``, ``incident`` (its id becomes a tag), ``tags``,
``time`` / ``time_end`` (epoch ms, Unix seconds or ISO 8601; default now),
``dashboard_uid``, ``panel_id``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from console.plugin_api import (
    ActionError,
    ActionPlan,
    ActionRequest,
    ActionResult,
    BackendAuthError,
    BackendStatus,
    BackendUnavailable,
    BadResponse,
    Option,
    PluginContext,
    check_options,
    clip,
)

from . import parse


class GrafanaPlugin:
    """Posts incident actions and status changes to Grafana as annotations."""

    actions: ClassVar[frozenset[str]] = frozenset({"annotate"})
    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("url", "url", "the Grafana base URL, like https://grafana.internal", required=True),
        Option("token", "secret", "the API or service-account token, as {secret: NAME}"),
        Option("token_secret", "str", "the name of the secret holding the token"),
        Option("dashboard_uid", "str", "the dashboard annotations go to by default"),
        Option("panel_id", "any", "the panel annotations go to by default"),
        Option("tags", "str|list", "extra tags on every annotation"),
        Option(
            "auto_annotate",
            "bool",
            "post every incident status change and runbook action",
            default=True,
        ),
    )

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        check_options("grafana", self.OPTIONS, options)
        self.name = name
        self.ctx = ctx
        self.url = str(options["url"]).rstrip("/")
        token = options.get("token")
        self._token = token if isinstance(token, str) and token else None
        self._token_secret = options.get("token_secret")
        if self._token is None and not self._token_secret:
            raise ValueError("token: expected {secret: NAME} (or token_secret: NAME)")
        self.dashboard_uid = options.get("dashboard_uid")
        self.panel_id = options.get("panel_id")
        raw = options.get("tags") or ()
        self.tags = tuple([raw] if isinstance(raw, str) else map(str, raw))
        #: Post every incident status change and runbook action as an annotation.
        self.auto_annotate: bool = options.get("auto_annotate", True) is not False

    def _headers(self) -> dict[str, str]:
        token = self._token or self.ctx.secret(str(self._token_secret))
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        if self.ctx.http is None:
            raise BackendUnavailable(f"{self.name}: no HTTP client")
        try:
            resp = await self.ctx.http.request(
                method, self.url + path, json=body, headers=self._headers()
            )
        except httpx.TimeoutException:
            raise BackendUnavailable(f"{self.name}: {method} {path} timed out") from None
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"{self.name}: {method} {path}: {exc}") from None
        if resp.status_code in (401, 403):
            raise BackendAuthError(f"{self.name}: Grafana refused the token ({resp.status_code})")
        if resp.status_code >= 500:
            raise BackendUnavailable(f"{self.name}: Grafana answered {resp.status_code}")
        if resp.status_code >= 400:
            raise BadResponse(
                f"{self.name}: {method} {path} → {resp.status_code}: {clip(resp.text, 200)}"
            )
        try:
            return resp.json()
        except (ValueError, RecursionError):  # nested too deep is not JSON we can read either
            raise BadResponse(f"{self.name}: {path} did not answer JSON") from None

    async def check(self) -> BackendStatus:
        """Probe ``/api/health``."""
        started = time.perf_counter()
        try:
            await self._call("GET", "/api/health")
        except Exception as exc:  # check never raises
            return BackendStatus(self.name, "grafana", ok=False, error=str(exc))
        ms = round((time.perf_counter() - started) * 1000.0, 1)
        return BackendStatus(self.name, "grafana", ok=True, latency_ms=ms)

    async def aclose(self) -> None:
        """Nothing to release: the HTTP client is Callboard's."""

    async def annotate(
        self, text: str, *, incident_id: str, function_id: str, tags: Sequence[str]
    ) -> ActionResult:
        """Post one incident annotation: the ``annotate`` action, planned and carried out."""
        params = {"text": text, "incident": incident_id, "tags": list(tags)}
        return await self.execute(await self.plan(ActionRequest("annotate", function_id, params)))

    async def plan(self, request: ActionRequest) -> ActionPlan:
        """The exact annotation that would be posted."""
        if request.action != "annotate":
            raise ActionError(f"grafana cannot {request.action!r} (it can: annotate)")
        try:
            body = parse.annotation(
                request.function_id, request.params, request.reason, self.ctx.clock(),
                dashboard_uid=self.dashboard_uid, panel_id=self.panel_id, extra_tags=self.tags,
            )  # fmt: skip
        except (ValueError, TypeError) as exc:
            raise ActionError(f"annotate: {exc}") from None
        return ActionPlan(
            request=request,
            backend=self.name,
            summary=f"annotate Grafana at {body['time']} ms: {body['text']}",
            changes=(f"POST {self.url}/api/annotations tags={','.join(body['tags'])}",),
            mutates=False,  # an annotation changes no production system
            details={"annotation": body},
        )

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Post the planned annotation. Raises: ActionError, BackendError."""
        if plan.request.action != "annotate":
            raise ActionError(f"grafana cannot {plan.request.action!r}")
        payload = await self._call("POST", "/api/annotations", plan.details["annotation"])
        aid = parse.annotation_id(payload)
        return ActionResult(
            plan=plan,
            ok=True,
            message=f"annotation {aid if aid is not None else '(no id)'} added",
            details={"annotation_id": aid},
        )

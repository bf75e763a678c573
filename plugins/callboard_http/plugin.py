"""Generic webhook actions: each action is an HTTP request described in config.

```yaml
backends:
  - name: gateway
    plugin: http
    endpoints:
      throttle:
        method: POST
        url: "https://gateway.internal/limits/{{ service }}"
        json: {route: "{{ operation }}", rps: "{{ params.rps }}", reason: "{{ reason }}"}
        headers: {Authorization: {secret: gateway-token}}
        expect_status: [200, 201]
      circuit_open: {method: PUT, url: "https://mesh.internal/circuits/{{ function_id }}"}
```

Placeholders: ``{{ function_id }}``, ``{{ service }}``, ``{{ operation }}``, ``{{ reason }}``
and ``{{ params.NAME }}`` (the runbook step's action params). A value that is exactly one
placeholder keeps its type (a number stays a number in the JSON body); in the URL each value
is percent-encoded, so ``checkout:POST /pay`` stays one path segment. Header values given
as ``{secret: NAME}`` are resolved when the backend is built (or through the context's
secret resolver), so they are known to the redactor and never shown: a plan lists header
names only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from console.plugin_api import (
    ActionError,
    ActionPlan,
    ActionRequest,
    ActionResult,
    BackendAuthError,
    BackendStatus,
    BackendUnavailable,
    Option,
    PluginContext,
    check_options,
    clip,
)

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_KEYS = frozenset({"method", "url", "json", "headers", "expect_status", "mutates"})


class HttpActionsPlugin:
    """Actions carried out as HTTP requests to endpoints named in config."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option(
            "endpoints",
            "dict",
            "a mapping of action name to {method, url, json, headers, expect_status}",
            required=True,
        ),
    )

    def __init__(self, name: str, options: Mapping[str, Any], context: PluginContext) -> None:
        check_options("http", self.OPTIONS, options)
        self.name = name
        self.context = context
        endpoints = options.get("endpoints")
        if not isinstance(endpoints, Mapping) or not endpoints:
            raise ValueError("endpoints: expected a mapping of action name to {method, url, ...}")
        self.endpoints: dict[str, dict[str, Any]] = {}
        for action, spec in endpoints.items():
            self.endpoints[str(action)] = _endpoint(str(action), spec, context)
        #: The actions this instance offers (those it has an endpoint for).
        self.actions: frozenset[str] = frozenset(self.endpoints)

    async def check(self) -> BackendStatus:
        """No probe: a webhook may have no harmless request. Reports what is configured."""
        return BackendStatus(
            self.name, "http", True, warnings=(f"actions: {', '.join(sorted(self.actions))}",)
        )

    async def aclose(self) -> None:
        return None

    def _render(
        self, request: ActionRequest
    ) -> tuple[str, str, dict[str, str], Any, tuple[int, ...], bool]:
        spec = self.endpoints.get(request.action)
        if spec is None:
            raise ActionError(f"{self.name}: no endpoint for action {request.action!r}")
        service, _, operation = request.function_id.partition(":")
        values: dict[str, Any] = {
            "function_id": request.function_id,
            "service": service,
            "operation": operation,
            "reason": request.reason,
        }
        values.update({f"params.{k}": v for k, v in request.params.items()})

        def fill(obj: Any) -> Any:
            if isinstance(obj, str):
                whole = _PLACEHOLDER.fullmatch(obj.strip())
                if whole is not None:
                    return _lookup(values, whole.group(1), request.action)
                return _PLACEHOLDER.sub(
                    lambda m: str(_lookup(values, m.group(1), request.action)), obj
                )
            if isinstance(obj, Mapping):
                return {str(k): fill(v) for k, v in obj.items()}
            if isinstance(obj, list):
                return [fill(v) for v in obj]
            return obj

        # A value never changes the URL's shape: ``checkout:POST /pay`` stays one segment.
        url = _PLACEHOLDER.sub(
            lambda m: quote(str(_lookup(values, m.group(1), request.action)), safe=""),
            spec["url"],
        )
        headers = {k: str(fill(v)) for k, v in spec["headers"].items()}
        body = fill(spec["json"]) if spec["json"] is not None else None
        return spec["method"], url, headers, body, spec["expect_status"], spec["mutates"]

    async def plan(self, request: ActionRequest) -> ActionPlan:
        """The request that would be sent (header names only). Raises ActionError."""
        method, url, headers, body, expect, mutates = self._render(request)
        changes = [f"{method} {url}"]
        if body is not None:
            changes.append(f"json: {body}")
        if headers:
            changes.append(f"headers: {', '.join(sorted(headers))}")
        changes.append(f"expects HTTP {statuses_text(expect)}")
        summary = f"{request.action} {request.function_id} via {method} {url}"
        return ActionPlan(
            request, self.name, summary, tuple(changes), mutates, {"method": method, "url": url}
        )

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Send the request. Raises BackendUnavailable (network), BackendAuthError (401/403)."""
        import httpx

        method, url, headers, body, expect, _ = self._render(plan.request)
        client = self.context.http
        if client is None:
            raise ActionError(f"{self.name}: no HTTP client in the plugin context")
        try:
            resp = await client.request(method, url, headers=headers, json=body)
        except httpx.TransportError as exc:
            raise BackendUnavailable(
                f"{self.name}: {method} {url}: {type(exc).__name__}: {exc}"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ActionError(f"{self.name}: {method} {url}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code in (401, 403) and resp.status_code not in expect:
            raise BackendAuthError(
                f"{self.name}: {method} {url} → {resp.status_code}: credentials refused"
            )
        ok = resp.status_code in expect
        message = f"{method} {url} → {resp.status_code}"
        if not ok:
            message += f" (expected {statuses_text(expect)}): {clip(resp.text, 500)}"
        return ActionResult(plan, ok, message, {"status": resp.status_code})


def statuses_text(codes: tuple[int, ...]) -> str:
    """Status codes compactly: ``2xx``, ``200, 201``, ``200–204, 404``."""
    present = set(codes)
    parts: list[str] = []
    run: list[int] = []

    def flush() -> None:
        parts.extend([f"{run[0]}–{run[-1]}"] if len(run) >= 3 else map(str, run))
        run.clear()

    covered = -1  # codes up to this one are inside a whole hundred already shown
    for code in sorted(present):
        if code <= covered:
            continue
        if code % 100 == 0 and present.issuperset(range(code, code + 100)):
            flush()
            parts.append(f"{code // 100}xx")
            covered = code + 99
            continue
        if run and code != run[-1] + 1:
            flush()
        run.append(code)
    flush()
    return ", ".join(parts)


def _lookup(values: Mapping[str, Any], name: str, action: str) -> Any:
    if name not in values:
        known = ", ".join(sorted(values))
        raise ActionError(f"{action}: placeholder {{{{ {name} }}}} has no value (known: {known})")
    return values[name]


def _endpoint(action: str, spec: Any, context: PluginContext) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise ValueError(f"endpoints.{action}: expected a mapping with method and url")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise ValueError(
            f"endpoints.{action}: unknown key(s) {', '.join(unknown)} (expected: {', '.join(sorted(_KEYS))})"
        )
    method = str(spec.get("method", "POST")).upper()
    if method not in _METHODS:
        raise ValueError(
            f"endpoints.{action}.method: expected one of {', '.join(sorted(_METHODS))}"
        )
    url = spec.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"endpoints.{action}.url: expected an http(s) URL, got {url!r}")
    headers: dict[str, str] = {}
    for key, value in (spec.get("headers") or {}).items():
        if isinstance(value, Mapping) and set(value) == {"secret"}:
            value = context.secret(str(value["secret"]))
        if not isinstance(value, str):
            raise ValueError(f"endpoints.{action}.headers.{key}: expected text or {{secret: NAME}}")
        headers[str(key)] = value
    raw = spec.get("expect_status", list(range(200, 300)))
    expect = tuple(raw if isinstance(raw, list) else [raw])
    if not all(isinstance(s, int) and 100 <= s <= 599 for s in expect):
        raise ValueError(f"endpoints.{action}.expect_status: expected HTTP status codes")
    # Only a GET or HEAD may say it changes nothing: any other method is a write that
    # read-only refuses and production confirms, whatever ``mutates:`` says.
    mutates = method not in ("GET", "HEAD") or spec.get("mutates", False)
    return {
        "method": method,
        "url": url,
        "json": spec.get("json"),
        "headers": headers,
        "expect_status": expect,
        "mutates": bool(mutates),
    }

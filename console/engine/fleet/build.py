"""Building a Fleet from a Config: plugin classes, contexts, the shared HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from console.config import BackendConfig, Config, OtlpConfig, parse_duration, secret_refs
from console.core.classify import validate_counted
from console.core.diagnose import Thresholds
from console.core.model import FailureMode
from console.core.options import problems as option_problems
from console.engine.fleet import registry
from console.engine.fleet.refresh import Backend, Fleet
from console.errors import ConfigError, ConfigErrors, UserError
from console.plugin_api import MemoryState, PluginContext, options_of

if TYPE_CHECKING:
    import httpx

    from console.engine.otlp.health import HealthStore
    from console.engine.store.base import StoreLike
    from console.engine.store.secrets import SecretStore
    from console.engine.store.sqlite import Store

#: Connect fast, read patiently: a slow backend is shown as slow, not as down.
HTTP_TIMEOUT = (10.0, 3.0)


def demo_backend(config: Config, size: int | None = None) -> BackendConfig:
    """The built-in demo fleet as a backend config."""
    options: dict[str, Any] = {"seed": config.demo.seed}
    if size or config.demo.size:
        options["size"] = size or config.demo.size
    return BackendConfig(name="demo", plugin="demo", options=options, line=None)


def embedded_traces(
    store: Store, otlp: OtlpConfig, clock: Callable[[], float] = time.time
) -> Backend:
    """The embedded OTLP receiver's span store as a trace source, its function-health
    tallies as an inventory and metrics source, and its log store as a log source: the
    ``otlp`` plugin, loaded through the registry like any other, handed them in
    ``ctx.span_store``, ``ctx.health_store`` and ``ctx.log_store`` (the tallies and the
    logs live in the span store's store)."""
    from console.engine.otlp.logstore import LogStore
    from console.engine.otlp.spanstore import SpanStore

    spans = SpanStore(store, max_spans=otlp.max_spans, max_age_s=otlp.max_age_seconds)
    logs = LogStore(spans.store, max_records=otlp.max_logs, max_age_s=otlp.max_age_seconds)
    health: HealthStore | None = None
    if otlp.enabled:  # imported only then: the tallies' modules are not small
        from console.engine.otlp.health import HealthStore

        health = HealthStore(spans.store, clock=clock)
    ctx = PluginContext(
        http=None,
        secret=lambda name: "",
        clock=clock,
        span_store=spans,
        # with the receiver off (a replay, a team that does not want it) nothing new is
        # received: the functions it once tallied are not the fleet's
        health_store=health,
        log_store=logs,
    )
    plugin = registry.load("otlp")("otlp", {}, ctx)
    return Backend(name="otlp", plugin_name="otlp", plugin=plugin)


def make_http_client(transport: Any = None) -> httpx.AsyncClient:
    """The one shared AsyncClient, with explicit timeouts."""
    import httpx

    total, connect = HTTP_TIMEOUT
    return httpx.AsyncClient(
        timeout=httpx.Timeout(total, connect=connect),
        transport=transport,
        follow_redirects=False,
        headers={"User-Agent": "callboard/0.1"},
    )


#: Close tasks scheduled on a running loop, kept referenced until done.
_CLOSING: set[asyncio.Task[None]] = set()


def _close_built(plugins: list[Any], client: httpx.AsyncClient | None) -> None:
    """Close plugins built for a fleet that will not be, and the client made for it."""

    async def close() -> None:
        for plugin in plugins:
            with contextlib.suppress(Exception):  # closing must never raise past here
                await plugin.aclose()
        if client is not None:
            await client.aclose()

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(close())
        return
    task = loop.create_task(close())
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


def located(
    source: str | None, spec: BackendConfig, path: tuple[Hashable, ...], message: str
) -> ConfigError:
    """One of a backend's option problems, at the line of the key it is about (the
    backend's line for a missing key)."""
    line = spec.option_lines.get(str(path[0])) if path else None
    return ConfigError(
        f"backend {spec.name!r} ({spec.plugin}): {message}", source, line or spec.line
    )


def build_fleet(
    config: Config,
    *,
    store: StoreLike | None = None,
    secrets: SecretStore | None = None,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
    demo: bool = False,
    demo_size: int | None = None,
    demo_if_empty: bool = True,
    timeout: float = 5.0,
    runbooks: Mapping[FailureMode, Sequence[str]] | None = None,
) -> Fleet:
    """Instantiate every configured backend (the demo when asked, or when none is configured
    and ``demo_if_empty``).

    Findings link to ``runbooks`` (failure mode -> runbook ids); by default those of the
    runbook catalog: shipped, the user's and the config's ``runbooks`` folders.

    Raises:
        UserError: an unknown or broken plugin, a plugin rejecting its options, a missing
            secret, bad thresholds.
    """
    specs = list(config.backends)
    if demo or (not specs and demo_if_empty):
        specs = [demo_backend(config, demo_size)]
    needs_http = any(s.plugin != "demo" for s in specs)
    client = http if http is not None or not needs_http else make_http_client()

    def secret(name: str) -> str:
        if secrets is None:
            from console.engine.store.secrets import SecretStore

            return SecretStore().get(name)
        return secrets.get(name)

    errors: list[ConfigError] = []
    backends: list[Backend] = []
    for spec in specs:
        try:
            cls = registry.load(spec.plugin)
        except UserError as exc:
            errors.append(ConfigError(f"backend {spec.name!r}: {exc}", config.source, spec.line))
            continue
        declared = options_of(cls)
        if declared is not None:
            found = option_problems(declared, spec.options)
            errors += [located(config.source, spec, path, message) for path, message in found]
            if found:
                continue
        ctx = PluginContext(
            http=client,
            secret=secret,
            clock=clock,
            state=store.plugin_state(spec.name) if store is not None else MemoryState(),
            options={"demo_size": demo_size} if demo_size else {},
        )
        try:
            options = dict(spec.options)
            call_timeout = parse_duration(options.pop("timeout")) if "timeout" in options else None
            if secret_refs(options):
                from console.engine.store.secrets import SecretStore, resolve_options

                options = resolve_options(options, secrets or SecretStore())
            plugin = cls(spec.name, options, ctx)
        except UserError as exc:
            errors.append(ConfigError(f"backend {spec.name!r}: {exc}", config.source, spec.line))
            continue
        except (ValueError, TypeError, KeyError) as exc:
            errors.append(
                ConfigError(
                    f"backend {spec.name!r} ({spec.plugin}): {exc}", config.source, spec.line
                )
            )
            continue
        backends.append(
            Backend(name=spec.name, plugin_name=spec.plugin, plugin=plugin, timeout=call_timeout)
        )
    try:
        thresholds = Thresholds.from_mapping(config.thresholds)
    except ValueError as exc:
        errors.append(ConfigError(f"thresholds: {exc}", config.source, None))
        thresholds = Thresholds()
    try:
        counted = validate_counted(config.slo_counted)
    except ValueError as exc:
        errors.append(ConfigError(f"slo_counted: {exc}", config.source, None))
        counted = validate_counted(("5xx", "timeout"))
    if errors:
        # nothing built is handed out: release it before raising
        _close_built([b.plugin for b in backends], client if http is None else None)
        raise ConfigErrors(errors)
    if runbooks is None:
        from console import paths
        from console.engine.runbooks.catalog import runbooks_by_mode

        runbooks = runbooks_by_mode(paths.runbook_dirs(config.runbook_paths()))
    fleet = Fleet(
        backends,
        thresholds=thresholds,
        counted=counted,
        clock=clock,
        timeout=timeout,
        environment=config.environment.name if not demo else "demo",
        production=config.environment.production and not demo,
        read_only=config.read_only,
        runbooks=runbooks,
    )
    if http is None and client is not None:
        fleet.owned_http = client
    return fleet

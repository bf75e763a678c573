"""What each step kind does: evaluate an expectation, run a command, call a URL, act.

Each function returns an :class:`Outcome` and never raises for an ordinary failure (a
non-zero exit, an unexpected status, an expectation that does not hold): the executor
records it. No Textual here, and no shell: commands run as argv lists.
"""

from __future__ import annotations

import asyncio
import json
import math
import operator
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from console.core import fmt
from console.core.redact import clip, redact
from console.core.runbook import Expectation, Step
from console.core.runbook_params import Scope, fill, fill_obj, fill_url
from console.errors import SecretError

if TYPE_CHECKING:
    import httpx

    from console.core.snapshot import FunctionHealth
    from console.engine.fleet.refresh import Fleet

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
#: Seconds a step may take when it says nothing (verify uses its ``within``).
DEFAULT_TIMEOUT = {"command": 60.0, "http": 30.0, "action": 120.0, "check": 30.0}


@dataclass
class Outcome:
    """How one attempt of a step ended."""

    ok: bool
    output: str
    exit_code: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def signal_value(health: FunctionHealth, name: str) -> float | None:
    """The current value of a signal name (see ``SIGNAL_NAMES``); None means no data."""
    s = health.signals
    if name == "dependency_error_rate":
        values = [v for v in s.dependency_errors.values() if v == v]
        return max(values) if values else None
    if name.startswith("burn_rate_"):
        return None if health.burn is None else health.burn.rates.get(name[len("burn_rate_") :])
    if name == "budget_remaining":
        return None if health.burn is None else health.burn.budget_remaining
    value = getattr(s, name, None)
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return None
    return float(value)


async def evaluate(
    exp: Expectation, health: FunctionHealth, fleet: Fleet, scope: Scope
) -> tuple[bool, str]:
    """Whether ``exp`` holds for ``health`` now, and a line saying what was seen."""
    if exp.finding is not None:
        found = next((f for f in health.findings if f.mode.value == exp.finding), None)
        seen = (
            f"{exp.finding} present: {found.evidence}" if found else f"{exp.finding} not diagnosed"
        )
        return (found is not None) == exp.present, seen
    target = exp.value
    if isinstance(target, str):
        target = float(fill(target, scope, typed=True))
    assert target is not None
    if exp.signal is not None:
        value = signal_value(health, exp.signal)
        name = exp.signal
    else:
        name = "query"
        value = await query_scalar(fleet, fill(exp.query or "", scope))
    if value is None:
        return False, f"{name}: no data (expected {exp.op} {target:g})"
    ok = _OPS[exp.op](value, float(target))
    shown = fmt.plain(value)
    return ok, f"{name} = {shown} ({'holds' if ok else 'expected'} {exp.op} {target:g})"


async def query_scalar(fleet: Fleet, promql: str) -> float | None:
    """One PromQL value from the first backend with the ``Query`` capability, through the
    fleet's timeout, retries and breaker.

    Raises:
        LookupError: no configured backend answers PromQL.
        BackendError: the backend failed, or its answer is not one number.
    """
    from console.plugin_api import Query

    for b in fleet.backends:
        plugin = b.plugin
        if isinstance(plugin, Query):
            value = await fleet.call_once(b, "query", partial(plugin.query_scalar, promql))
            return None if value is None else float(value)
    raise LookupError("no configured backend answers PromQL queries (add a prometheus backend)")


def argv_of(step: Step, scope: Scope) -> list[str]:
    """The command's argv: each element filled on its own, so a value stays one element."""
    return [str(fill(part, scope)) for part in step.command]


#: Seconds a command gets to exit after SIGTERM (a cancel) before it is killed.
TERM_GRACE_S = 0.5


async def run_command(
    argv: list[str], timeout: float, stop: asyncio.Event | None = None
) -> Outcome:
    """Run ``argv`` without a shell; output is stdout then stderr.

    ``stop`` (the run's cancel) ends the command at once: SIGTERM, then SIGKILL after
    :data:`TERM_GRACE_S`. Its outcome is then unknown (``details["stopped"]``): it may have
    taken effect before it was stopped.
    """
    if stop is not None and stop.is_set():
        return Outcome(False, "cancelled before it started", details={"cancelled": True})
    try:
        proc = subprocess.Popen(
            argv,
            shell=False,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    except FileNotFoundError:
        return Outcome(False, f"command not found: {argv[0]}", 127)
    except PermissionError:
        return Outcome(False, f"permission denied: {argv[0]}", 126)

    def talk() -> tuple[str, str, bool]:
        try:
            out, err = proc.communicate(timeout=timeout)
            return out, err, False
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return out, err, True

    talking = asyncio.ensure_future(asyncio.to_thread(talk))
    stopping = asyncio.ensure_future(stop.wait()) if stop is not None else None
    try:
        await asyncio.wait(
            {talking, *([stopping] if stopping else [])}, return_when=asyncio.FIRST_COMPLETED
        )
        stopped = not talking.done()
        if stopped:
            proc.terminate()
            done, _ = await asyncio.wait({talking}, timeout=TERM_GRACE_S)
            if not done:
                proc.kill()
        out, err, timed_out = await talking
    finally:
        if stopping is not None:
            stopping.cancel()
    output = ((out or "") + (err or "")).strip()
    if stopped:
        why = f"stopped by cancel: {argv[0]} (it may have taken effect)"
        return Outcome(False, f"{why}\n{output}".strip(), proc.returncode, {"stopped": True})
    if timed_out:
        return Outcome(False, f"timed out after {timeout:g}s: {argv[0]}", None)
    return Outcome(proc.returncode == 0, output, proc.returncode)


def http_request(step: Step, scope: Scope) -> tuple[str, str, dict[str, str], Any]:
    """Method, URL (placeholders percent-encoded), headers and JSON body (values typed)."""
    url = fill_url(step.url, scope)
    headers = {k: str(fill(v, scope)) for k, v in step.headers.items()}
    body = fill_obj(step.json, scope) if step.json is not None else None
    return step.method, url, headers, body


async def run_http(step: Step, scope: Scope, client: httpx.AsyncClient, timeout: float) -> Outcome:
    """Send the request; a status outside ``expect_status`` (default 2xx) fails the step."""
    import httpx

    method, url, headers, body = http_request(step, scope)
    try:
        resp = await client.request(method, url, headers=headers, json=body, timeout=timeout)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Outcome(False, redact(f"{method} {url}: {type(exc).__name__}: {exc}"))
    expected = step.expect_status or tuple(range(200, 300))
    ok = resp.status_code in expected
    text = clip(resp.text, 2000)  # redact, then cut: no secret's prefix survives the cut
    return Outcome(
        ok, redact(f"{method} {url} → {resp.status_code}\n{text}".strip()), resp.status_code
    )


def describe(step: Step, scope: Scope) -> str:
    """One line saying what a step would do (dry run), secrets redacted."""
    try:
        if step.kind == "command":
            argv = argv_of(step, scope)
            return redact(
                "run: " + " ".join(json.dumps(a) if " " in a or not a else a for a in argv)
            )
        if step.kind == "http":
            method, url, headers, body = http_request(step, scope)
            extra = f" headers: {', '.join(headers)}" if headers else ""
            return redact(
                f"{method} {url}{extra}"
                + (f" json: {json.dumps(body)}" if body is not None else "")
            )
        if step.kind in ("note", "manual"):
            return redact(str(fill(step.text, scope)))
        if step.kind in ("check", "verify") and step.expect is not None:
            extra = f" within {step.within:g}s" if step.kind == "verify" else ""
            return f"expect {fill(step.expect.describe(), scope)}{extra}"
    except (KeyError, SecretError) as exc:
        return f"cannot fill placeholder: {exc}"
    return step.label

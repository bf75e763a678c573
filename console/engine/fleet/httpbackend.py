"""A small shared helper for plugins that speak HTTP to a backend.

It turns a backend's config (``url``, ``auth``, ``headers``, ``tls_verify``) into requests
on the shared ``httpx.AsyncClient``, and every way a request can fail into a typed error
with a human message:

=====================================  ===================================================
what happened                          error
=====================================  ===================================================
connection refused / DNS / reset       ``BackendUnavailable`` ("cannot connect to URL: …")
timeout                                ``BackendUnavailable`` ("timed out after …")
503 ``text/plain`` (Prometheus warming  ``BackendUnavailable`` ("not ready (503 …)")
up, load balancer with no upstream)
other 5xx, 429                         ``BackendUnavailable`` (retryable)
401, 403                               ``BackendAuthError``
other 4xx (bad query, …)               ``BadResponse`` with the backend's own message
body over ``max_response_bytes``       ``BadResponse`` ("… larger than 32 MiB"), cut
                                       off while streaming, before it is all read
JSON nested too deep, not JSON         ``BadResponse`` ("nested deeper than …")
=====================================  ===================================================

``max_response_bytes`` (default :data:`MAX_BYTES`, 32 MiB) bounds one answer per backend.
Decoding a body larger than :data:`INLINE_BYTES` runs in a worker thread
(:meth:`HttpBackend.adecode` / :meth:`HttpBackend.aparse`), so the backend ``timeout``
bounds the call with parsing included and the event loop (the console's UI) keeps running
between the decoder's steps; after a large answer freed memory is handed back to the OS.

Auth config (one of): ``auth: {basic: {username: u, password: {secret: NAME}}}``,
``auth: {bearer: {secret: NAME}}`` (or a literal token), plus ``headers: {X-Scope-OrgID: t}``.
A ``{secret: NAME}`` value anywhere in the options is resolved through ``ctx.secret``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from console.core.model import BackendStatus
from console.core.options import Option
from console.core.redact import clip, drop_partial, redact
from console.engine.fleet import jsonchunks
from console.engine.fleet.offloop import off_loop, trim_soon
from console.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailable,
    BadResponse,
    ConfigError,
)

__all__ = [
    "HTTP_OPTIONS",
    "INLINE_BYTES",
    "MAX_BYTES",
    "HttpBackend",
    "error_message",
    "resolve_secrets",
]

#: Default largest answer read (bytes), per backend ``max_response_bytes``: ~100k Prometheus
#: series with their labels; a larger one is a BadResponse, not a stall and an OOM.
MAX_BYTES = 32 * 1024 * 1024
#: The keys every plugin built on this helper accepts (it adds its own to these).
HTTP_OPTIONS: tuple[Option, ...] = (
    Option("url", "url", "the backend's base URL, e.g. http://127.0.0.1:9090", required=True),
    Option("auth", "dict", "{bearer: {secret: NAME}} or {basic: {username, password}}"),
    Option("headers", "dict", "extra request headers, e.g. {X-Scope-OrgID: team}"),
    Option("tls_verify", "bool", "verify the server's TLS certificate", default=True),
    Option("ca_file", "str", "a CA bundle file to verify the server's certificate with"),
    Option("max_response_bytes", "int", "the largest answer read, in bytes", default=MAX_BYTES),
)
#: Bodies up to this size are decoded inline (a thread hop costs more than the decode).
INLINE_BYTES = 256 * 1024
_SNIPPET = 200
#: Seconds after a large decode when freed memory is returned to the OS.
_TRIM_AFTER_S = 2.0


def resolve_secrets(value: Any, secret: Callable[[str], str]) -> Any:
    """``value`` with every ``{secret: NAME}`` mapping replaced by the secret's value."""
    if isinstance(value, Mapping):
        if len(value) == 1 and "secret" in value and isinstance(value["secret"], str):
            return secret(value["secret"])
        return {k: resolve_secrets(v, secret) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve_secrets(v, secret) for v in value]
    return value


def _auth(options: Mapping[str, Any]) -> tuple[httpx.Auth | None, dict[str, str]]:
    auth = options.get("auth")
    headers: dict[str, str] = {}
    raw_headers = options.get("headers") or {}
    if not isinstance(raw_headers, Mapping):
        raise ConfigError("headers: expected a mapping of header name to value")
    headers.update({str(k): str(v) for k, v in raw_headers.items()})
    for key, value in headers.items():
        _check_header(f"headers.{key}", key, value)
    if auth is None:
        return None, headers
    if not isinstance(auth, Mapping) or len(auth) != 1:
        raise ConfigError("auth: expected {basic: {username, password}} or {bearer: TOKEN}")
    if "basic" in auth:
        basic = auth["basic"]
        if not isinstance(basic, Mapping) or "username" not in basic:
            raise ConfigError("auth.basic: expected {username: ..., password: ...}")
        return httpx.BasicAuth(str(basic["username"]), str(basic.get("password", ""))), headers
    if "bearer" in auth:
        token = auth["bearer"]
        if not isinstance(token, str) or not token:
            raise ConfigError("auth.bearer: expected a token or {secret: NAME}")
        _check_header("auth.bearer", "Authorization", token)
        headers["Authorization"] = f"Bearer {token}"
        return None, headers
    raise ConfigError(f"auth: unknown kind {next(iter(auth))!r} (expected basic or bearer)")


_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _check_header(where: str, name: str, value: str) -> None:
    """Refuse at construction what httpx would refuse at request time: a header name that is
    not a token, or a value with non-ASCII or control characters (CR/LF would split the
    request). The message names the config key, never the value (it may be a secret)."""
    if not name or not set(name) <= _TOKEN:
        raise ConfigError(f"{where}: {name!r} is not a valid HTTP header name")
    if any(not (" " <= c <= "~" or c == "\t") for c in value):
        raise ConfigError(
            f"{where}: the value has non-ASCII or control characters (CR/LF); "
            "HTTP header values must be printable ASCII"
        )


def _size(n: int) -> str:
    """``33554432`` → ``32 MiB``; sizes that are not whole MiB in bytes."""
    mib = 1024 * 1024
    return f"{n // mib} MiB" if n % mib == 0 else f"{n:,} bytes"


def _max_bytes(opts: Mapping[str, Any], default: int) -> int:
    value = opts.get("max_response_bytes", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= 1 << 30:
        raise ConfigError(
            f"max_response_bytes: expected a size in bytes from 1024 to 1073741824, got {value!r}"
        )
    return value


def error_message(body: bytes, limit: int = _SNIPPET) -> str:
    """The backend's own words from an error body: a JSON ``error``/``message`` or the text."""
    text = body[:4096].decode("utf-8", "replace")
    if len(body) > 4096:  # a secret cut by the read limit is not recognisable: drop its part
        text = drop_partial(text.rstrip("\ufffd"))
    text = text.strip()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # 4 KB of brackets is still too deep for json
        data = None
    if isinstance(data, str):
        text = data
    elif isinstance(data, Mapping):
        for key in ("error", "message", "msg"):
            if isinstance(data.get(key), str):
                text = data[key]
                break
            if isinstance(data.get(key), Mapping) and isinstance(data[key].get("message"), str):
                text = data[key]["message"]
                break
    # Redact before whitespace is collapsed (a token with two spaces is still whole), and
    # before the cut (clip drops a secret's prefix left at the end).
    return clip(" ".join(redact(text).split()), limit)


class HttpBackend:
    """Requests to one backend's base URL, with auth, a size cap and typed errors.

    Args:
        options: the backend's config (secrets already resolved or still ``{secret: NAME}``).
        http: the shared client. When ``tls_verify: false`` or ``ca_file`` is configured a
            private client is made for this backend (TLS settings are per client in httpx)
            and closed by :meth:`aclose`.
        secret: resolves ``{secret: NAME}`` references.

    Raises:
        ConfigError: a missing/invalid ``url`` or a malformed ``auth``/``headers``.
    """

    def __init__(
        self,
        options: Mapping[str, Any],
        http: httpx.AsyncClient | None,
        secret: Callable[[str], str],
        *,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        opts = resolve_secrets(dict(options), secret)
        url = opts.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"url: expected an http:// or https:// URL, got {url!r}")
        self.url = url.rstrip("/")
        self.auth, self.headers = _auth(opts)
        self.max_bytes = _max_bytes(opts, max_bytes)
        verify = opts.get("tls_verify", True)
        if not isinstance(verify, bool):  # "false" would be truthy: verification stays on
            raise ConfigError(f"tls_verify: expected true or false, got {verify!r}")
        ca_file = opts.get("ca_file")
        self._own: httpx.AsyncClient | None = None
        if verify is not True or ca_file:
            base = http.timeout if http is not None else httpx.Timeout(10.0, connect=3.0)
            self._own = httpx.AsyncClient(timeout=base, verify=ca_file or bool(verify))
        elif http is None:
            self._own = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        self.http: httpx.AsyncClient = self._own or http  # type: ignore[assignment]

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        data: Any = None,
        json_body: Any = None,
        ok: tuple[int, ...] = (),
    ) -> tuple[int, bytes, str]:
        """Send one request; returns ``(status, body, content type)`` for a 2xx (or ``ok``).

        Raises:
            BackendUnavailable, BackendAuthError, BadResponse: see the module table.
        """
        url = self.url + path
        try:
            req = self.http.build_request(
                method, url, params=params, data=data, json=json_body, headers=self.headers
            )
            resp = await self.http.send(
                req, auth=self.auth or httpx.USE_CLIENT_DEFAULT, stream=True
            )
        except httpx.TimeoutException:
            raise BackendUnavailable(f"timed out talking to {self.url}") from None
        except httpx.ConnectError as exc:
            raise BackendUnavailable(f"cannot connect to {self.url}: {_reason(exc)}") from None
        except httpx.TransportError as exc:
            raise BackendUnavailable(f"{self.url}: {_reason(exc)}") from None
        try:
            body = await self._read(resp)
        finally:
            await resp.aclose()
        ctype = resp.headers.get("content-type", "")
        status = resp.status_code
        if 200 <= status < 300 or status in ok:
            return status, body, ctype
        raise self.status_error(status, body, ctype)

    async def _read(self, resp: httpx.Response) -> bytes:
        declared = resp.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    chunks.clear()
                    raise self._too_large()  # cut off here: the rest is never read
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise BackendUnavailable(f"timed out reading from {self.url}") from None
        except httpx.TransportError as exc:
            raise BackendUnavailable(f"{self.url}: {_reason(exc)}") from None
        return b"".join(chunks)

    def _too_large(self) -> BadResponse:
        return BadResponse(
            f"{self.url} sent an answer too large to read: larger than "
            f"{_size(self.max_bytes)} (max_response_bytes); narrow the query or raise the limit"
        )

    def status_error(
        self, status: int, body: bytes, ctype: str
    ) -> BackendUnavailable | BackendAuthError | BadResponse:
        """The typed error for a non-2xx answer."""
        said = error_message(body)
        if status == 503 and "json" not in ctype:
            return BackendUnavailable(f"{self.url} not ready (503 {said or 'Service Unavailable'})")
        if status in (401, 403):
            return BackendAuthError(
                f"{self.url} refused our credentials (HTTP {status}); check the auth config"
            )
        if status >= 500 or status == 429:
            return BackendUnavailable(f"{self.url} answered HTTP {status}: {said}".rstrip(": "))
        return BadResponse(f"{self.url} answered HTTP {status}: {said}".rstrip(": "))

    async def probe(self, name: str, plugin: str, path: str) -> BackendStatus:
        """A plugin's ``check()``: GET ``path``; ok with its latency, or the error. Never raises."""
        started = time.perf_counter()
        try:
            await self.request("GET", path)
        except BackendError as exc:
            return BackendStatus(name, plugin, ok=False, error=str(exc))
        ms = round((time.perf_counter() - started) * 1000.0, 1)
        return BackendStatus(name, plugin, ok=True, latency_ms=ms)

    async def get_json(self, path: str, **kw: Any) -> Any:
        """GET ``path`` and decode JSON. Raises the errors of :meth:`request`."""
        _, body, _ = await self.request("GET", path, **kw)
        return self.decode(body)

    def decode(self, body: bytes, loads: Callable[[bytes], Any] = json.loads) -> Any:
        """Decode a JSON body. Raises: BadResponse when it is not JSON or nested too deep."""
        try:
            return loads(body)
        except RecursionError:
            raise BadResponse(
                f"{self.url} sent JSON nested deeper than {_json_depth()} levels "
                "(the decoder's limit)"
            ) from None
        except ValueError:
            raise BadResponse(
                f"{self.url} sent a body that is not JSON: {error_message(body, 80)!r}"
            ) from None

    def parse(self, fn: Callable[..., Any], body: bytes, path: str, *args: Any) -> Any:
        """``fn(decoded body, *args)``; a payload of the wrong shape (a parser's ValueError,
        TypeError, AttributeError or KeyError) becomes one BadResponse naming the URL."""
        return self._parse(fn, body, path, args)

    def _parse(
        self,
        fn: Callable[..., Any],
        body: bytes,
        path: str,
        args: tuple[Any, ...],
        loads: Callable[[bytes], Any] = json.loads,
    ) -> Any:
        try:
            return fn(self.decode(body, loads), *args)
        except RecursionError:
            raise BadResponse(f"{self.url}{path}: answer nested too deeply to read") from None
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise BadResponse(f"{self.url}{path}: unexpected answer ({exc})") from None

    async def adecode(self, body: bytes) -> Any:
        """:meth:`decode`, in a worker thread for a large body (see the module docstring)."""
        if len(body) <= INLINE_BYTES:
            return self.decode(body)
        try:
            return await off_loop(lambda cancel: self.decode(body, jsonchunks.loader(cancel)))
        finally:
            # the caller holds the decoded answer a moment longer: hand the heap back after
            asyncio.get_running_loop().call_later(_TRIM_AFTER_S, trim_soon)

    async def aparse(self, fn: Callable[..., Any], body: bytes, path: str, *args: Any) -> Any:
        """:meth:`parse`, in a worker thread for a large body (see the module docstring)."""
        if len(body) <= INLINE_BYTES:
            return self.parse(fn, body, path, *args)
        return await off_loop(
            lambda cancel: self._parse(fn, body, path, args, jsonchunks.loader(cancel))
        )

    async def aclose(self) -> None:
        """Close the private client, if one was made (never the shared one)."""
        if self._own is not None:
            await self._own.aclose()
            self._own = None


def _json_depth() -> int:
    """About how deep the C decoder nests before RecursionError (the recursion limit)."""
    return sys.getrecursionlimit()


def _reason(exc: BaseException) -> str:
    """A short cause: "connection refused" when that is what happened underneath."""
    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 10:  # bounded walk down the cause chain
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
        seen += 1
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return clip(" ".join(redact(text).split()), _SNIPPET)

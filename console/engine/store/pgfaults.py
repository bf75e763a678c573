"""PostgreSQL failures of the team store as one clear line, without the password.

A bad URL, a refused login, a missing database or one that is not Callboard's is a
:class:`~console.errors.StoreError` (exit 2: fix the config); a server that cannot be reached,
a lost connection, a full disk or too many connections is a
:class:`~console.errors.StoreUnavailable` (exit 1: try again). Anything else (an SQL bug) is
not mapped: it surfaces as itself.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from console.core.redact import MASK, redact
from console.errors import StoreError, StoreUnavailable

__all__ = ["is_pg_url", "message_of", "pg_fault", "redact_url"]

_FIX = "check store.url and store.password in the config (or --db)"

# What libpq says when the login or the target is wrong (no SQLSTATE on connection errors).
_CONFIG_WORDS = re.compile(
    r"password authentication failed|no password supplied|authentication failed"
    r"|role \"[^\"]*\" does not exist|database \"[^\"]*\" does not exist|no pg_hba\.conf entry"
    r"|could not translate host name|failed to resolve host|invalid port number"
    r"|invalid (?:connection option|URI|integer value|sslmode)|invalid \w+ value"
    r"|missing \"=\"|invalid dsn|certificate|SSL",
    re.IGNORECASE,
)


def is_pg_url(text: str) -> bool:
    """Whether ``text`` names a PostgreSQL store (``postgresql://`` or ``postgres://``)."""
    head = text.strip().lower()
    return head.startswith(("postgresql://", "postgres://"))


def redact_url(url: str) -> str:
    """``url`` fit to show: its password (in the authority or as ``?password=``) masked."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            auth, host = netloc.rsplit("@", 1)
            if ":" in auth:
                auth = auth.split(":", 1)[0] + ":" + MASK
            netloc = f"{auth}@{host}"
        query = parts.query
        if query:
            pairs = [
                (k, MASK if k.lower() == "password" else v)
                for k, v in parse_qsl(query, keep_blank_values=True)
            ]
            query = urlencode(pairs, safe=MASK, quote_via=quote)
        return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
    except ValueError:
        return "postgresql://" + MASK  # unparsable: show nothing of it


def message_of(exc: BaseException) -> str:
    """The first line of what the server or libpq said, redacted."""
    text = str(exc).strip() or type(exc).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # libpq: 'connection failed: connection to server at "…" failed: FATAL:  …' — keep it all
    # on one line, minus the doubled spaces.
    return redact(re.sub(r"\s+", " ", " ".join(lines[:2])))[:400]


def pg_fault(exc: BaseException, where: str) -> StoreError | StoreUnavailable | None:
    """The typed error for a psycopg failure on the store at ``where`` (a redacted URL);
    None for a failure that is not about the server, the login or the environment."""
    import psycopg
    import psycopg_pool

    said = message_of(exc)
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return StoreUnavailable(
            f"{where}: no connection to the team store within the timeout ({said}); "
            "check that the server is up and try again"
        )
    if not isinstance(exc, psycopg.Error):
        return None
    state = exc.sqlstate or ""
    if state.startswith("28") or state in ("3D000", "42501"):
        return StoreError(f"{where}: the server refused ({said}); {_FIX}")
    if isinstance(exc, psycopg.ProgrammingError) and not state:
        return StoreError(f"{where}: not a usable PostgreSQL URL ({said}); {_FIX}")
    if state.startswith("53") or state.startswith("58"):
        return StoreUnavailable(
            f"{where}: the server cannot take it now ({said}); try again "
            "(what was stored before is intact)"
        )
    if state.startswith(("08", "57P")) or (isinstance(exc, psycopg.OperationalError) and not state):
        if _CONFIG_WORDS.search(said):
            return StoreError(f"{where}: the URL or the login is wrong ({said}); {_FIX}")
        return StoreUnavailable(
            f"{where}: cannot reach the team store ({said}); check that the server is up and "
            "try again (what was stored before is intact)"
        )
    return None


def not_ours(exc: BaseException, where: str) -> StoreError:
    """A database whose tables are not Callboard's (migrating it failed)."""
    return StoreError(
        f"{where}: a PostgreSQL database, but not Callboard's ({message_of(exc)}); "
        "point store.url at an empty database or one Callboard made"
    )

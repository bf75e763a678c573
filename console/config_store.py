"""The ``store`` section of the config: where the team's incidents and events are kept.

::

    store:
      url: postgresql://callboard@db.internal:5432/callboard
      password: {secret: CALLBOARD_DB}
      migrate: auto        # or manual: `callboard store migrate` brings the schema up

A password never goes into the file: ``password`` must be ``{secret: NAME}``, and a URL with a
password in it is refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from console.config_fields import FieldChecker, describe
from console.config_model import StoreConfig, secret_ref

__all__ = ["check_store"]

_KEYS = ("url", "password", "migrate")


def check_store(check: FieldChecker, value: object) -> StoreConfig:
    """The ``store`` section; every problem recorded on ``check`` (the default on error)."""
    path = ("store",)
    d = check.section(value, path, _KEYS)
    line = check.lines.of(path)
    url = d.get("url")
    if url is not None:
        url = _url(check, url)
    password = d.get("password")
    name: str | None = None
    if password is not None:
        name = secret_ref(password)
        if name is None:
            what = (
                "a string (a password written into the file)"
                if isinstance(password, str)
                else describe(password)
            )
            check.fail(
                (*path, "password"),
                "expected {secret: NAME} (the password is kept in the keyring or "
                f"CALLBOARD_SECRET_NAME, never in the file), got {what}",
            )
        elif url is None:
            check.fail((*path, "password"), "a password without store.url: add the url")
    migrate = d.get("migrate", "auto")
    if migrate not in ("auto", "manual"):
        check.fail(
            (*path, "migrate"),
            f"expected auto (migrate at start) or manual (`callboard store migrate`), got {describe(migrate)}",
        )
        migrate = "auto"
    return StoreConfig(url=url, password=name, migrate=str(migrate), line=line)


def _url(check: FieldChecker, url: object) -> str | None:
    path = ("store", "url")
    if not isinstance(url, str) or not url.strip():
        check.fail(path, f"expected a postgresql://user@host:port/db URL, got {describe(url)}")
        return None
    from console.engine.store.pgfaults import is_pg_url

    text = url.strip()
    if not is_pg_url(text):
        check.fail(
            path,
            "expected a postgresql://user@host:port/db URL (the local SQLite file is the "
            "default: leave store.url out, or use --db FILE)",
        )
        return None
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError as exc:
        check.fail(path, f"expected a postgresql://user@host:port/db URL ({exc})")
        return None
    query = parts.query.lower()
    if parts.password is not None or "password=" in query:
        check.fail(
            path,
            "the URL holds a password: take it out and write store.password: {secret: NAME}",
        )
        return None
    if not parts.hostname:
        check.fail(path, "expected a host in the URL: postgresql://user@host:port/db")
        return None
    return text

"""Where Callboard keeps its files, following the XDG Base Directory specification.

Every function reads the environment when it is called (tests and ``--config``-style
overrides change it at run time) and nothing here creates a directory: callers that are
about to write call :func:`ensure_dir` first. An ``XDG_*`` variable that is empty or not an
absolute path is ignored, as the specification requires.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

APP = "callboard"

__all__ = [
    "cache_dir",
    "config_dir",
    "config_file",
    "data_dir",
    "default_db",
    "ensure_dir",
    "log_dir",
    "runbook_dirs",
    "shipped_runbooks_dir",
    "state_dir",
    "summary",
    "user_runbooks_dir",
]


def _xdg(var: str, fallback: str, env: Mapping[str, str] | None) -> Path:
    environ = os.environ if env is None else env
    value = environ.get(var, "")
    if value and os.path.isabs(value):
        return Path(value) / APP
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / fallback / APP


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/callboard`` (default ``~/.config/callboard``)."""
    return _xdg("XDG_CONFIG_HOME", ".config", env)


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The default config file, ``config_dir()/config.yaml``. It may not exist."""
    return config_dir(env) / "config.yaml"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/callboard`` (default ``~/.local/share/callboard``)."""
    return _xdg("XDG_DATA_HOME", ".local/share", env)


def default_db(env: Mapping[str, str] | None = None) -> Path:
    """The SQLite store used unless ``--db FILE`` says otherwise."""
    return data_dir(env) / "callboard.db"


def local_db(given: str | None, env: Mapping[str, str] | None = None) -> str:
    """This machine's SQLite file: ``given`` (``--db`` / ``CALLBOARD_DB``) unless it is a
    team store's ``postgresql://`` URL (spans and plugin state stay local), else the default."""
    from console.engine.store.pgfaults import is_pg_url

    return given if given and not is_pg_url(given) else str(default_db(env))


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/callboard`` (default ``~/.local/state/callboard``)."""
    return _xdg("XDG_STATE_HOME", ".local/state", env)


def log_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where log files go: ``state_dir()/log``."""
    return state_dir(env) / "log"


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/callboard`` (default ``~/.cache/callboard``): safe to delete."""
    return _xdg("XDG_CACHE_HOME", ".cache", env)


def shipped_runbooks_dir() -> Path | None:
    """The runbooks that ship with Callboard, or None if this install has none.

    A wheel carries them inside the package (``console/_runbooks``); an editable install
    reads the repository's ``runbooks/`` folder.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "_runbooks", package.parent / "runbooks"):
        if candidate.is_dir():
            return candidate
    return None


def user_runbooks_dir(env: Mapping[str, str] | None = None) -> Path:
    """The user's own runbooks: ``config_dir()/runbooks`` (it may not exist)."""
    return config_dir(env) / "runbooks"


def runbook_dirs(
    extra: Iterable[str | Path] = (),
    env: Mapping[str, str] | None = None,
) -> list[Path]:
    """Every folder runbooks are read from, in order: shipped, the user's, then ``extra``.

    ``extra`` are the config's ``runbooks`` entries (``~`` is expanded). Folders are listed
    whether or not they exist, so ``callboard check`` can report a missing one; duplicates
    are dropped.
    """
    dirs: list[Path] = []
    shipped = shipped_runbooks_dir()
    if shipped is not None:
        dirs.append(shipped)
    dirs.append(user_runbooks_dir(env))
    dirs.extend(Path(p).expanduser() for p in extra)
    seen: set[Path] = set()
    unique: list[Path] = []
    for d in dirs:
        if d not in seen:
            seen.add(d)
            unique.append(d)
    return unique


def ensure_dir(path: str | Path) -> Path:
    """Create ``path`` (and its parents) if missing, private to the user; return it."""
    p = Path(path)
    p.mkdir(mode=0o700, parents=True, exist_ok=True)
    return p


def summary(env: Mapping[str, str] | None = None) -> dict[str, Path]:
    """The locations ``callboard paths`` prints, by label."""
    return {
        "config": config_file(env),
        "data": data_dir(env),
        "database": default_db(env),
        "logs": log_dir(env),
        "cache": cache_dir(env),
        "runbooks": user_runbooks_dir(env),
    }

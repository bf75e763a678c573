"""Where the palette's "Save screenshot" goes: ~/Downloads when it exists, else the
state directory (``$XDG_STATE_HOME/callboard/screenshots``), else the working directory.

Textual's own delivery writes to the Downloads directory and fails when it is missing
(a server, a container, a fresh account).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from console.paths import ensure_dir, state_dir


def screenshot_dir(downloads: Path | None, env: Mapping[str, str] | None = None) -> Path:
    """The first usable of ``downloads``, the state dir's ``screenshots``, the cwd."""
    if downloads is not None and downloads.is_dir():
        return downloads
    try:
        return ensure_dir(state_dir(env) / "screenshots")
    except OSError:
        return Path.cwd()


def default_downloads() -> Path | None:
    """The user's Downloads directory as platformdirs names it (it may not exist)."""
    try:
        from platformdirs import user_downloads_dir

        return Path(user_downloads_dir())
    except Exception:  # no platformdirs answer: the fallbacks take over
        return None

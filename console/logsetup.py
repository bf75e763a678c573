"""Callboard's log file: ``$XDG_STATE_HOME/callboard/log/callboard.log`` (``callboard paths``).

Set up when a command runs, never at import. Every record passes the redactor on its way to
the file, so a known secret never lands in it. ``CALLBOARD_LOG_LEVEL`` (default INFO) sets
the level. The console owns the terminal, so the file is where a backend's failures, the
actions taken and the receiver's refusals can be read afterwards.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from console import paths
from console.core.redact import RedactingFilter

LOGGER = "callboard"
_MARK = "_callboard_file"


def log_file() -> Path:
    return paths.log_dir() / "callboard.log"


def setup_logging(path: Path | None = None, level: str | None = None) -> Path | None:
    """Send the ``callboard`` loggers to ``path`` (default :func:`log_file`); idempotent.

    Returns the file, or None when it cannot be created (logging then stays off; a command
    never fails because of its log).
    """
    logger = logging.getLogger(LOGGER)
    target = (path or log_file()).resolve()
    for handler in list(logger.handlers):
        if getattr(handler, _MARK, False):
            if getattr(handler, "baseFilename", None) == str(target):
                return target
            logger.removeHandler(handler)
            handler.close()
    try:
        paths.ensure_dir(target.parent)
    except OSError:
        return None
    handler = RotatingFileHandler(
        target, maxBytes=5_000_000, backupCount=3, encoding="utf-8", delay=True
    )
    setattr(handler, _MARK, True)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    wanted = (level or os.environ.get("CALLBOARD_LOG_LEVEL") or "INFO").upper()
    logger.setLevel(wanted if wanted in logging.getLevelNamesMapping() else "INFO")
    logger.propagate = False
    return target

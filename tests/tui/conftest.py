"""Fixtures the console's tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.config import Config, OtlpConfig
from console.context import AppContext

#: No embedded OTLP receiver: a console test must not bind port 4318.
NO_RECEIVER = Config(otlp=OtlpConfig(enabled=False))


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    """A demo context on its own database file, without the OTLP receiver."""
    context = AppContext(db_path=str(tmp_path / "cb.db"), demo=True, _config=NO_RECEIVER)
    yield context
    context.close()

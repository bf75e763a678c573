"""Messages that carry worker results up to the screens and the app."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.core.snapshot import FleetSnapshot


@dataclass
class SnapshotReady(Message):
    """A fleet refresh finished."""

    snapshot: FleetSnapshot


@dataclass
class SeriesReady(Message):
    """Signal histories for the function screen: signal name → (unix s, value) points."""

    function_id: str
    series: dict[str, list[tuple[float, float]]]


@dataclass
class WorkFailed(Message):
    """A worker failed; the app turns this into one notification."""

    what: str
    error: BaseException

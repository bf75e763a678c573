"""Messages that carry worker results up to the screens and the app."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.core.snapshot import FleetSnapshot
from console.engine.incidents.lifecycle import Incident


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


@dataclass
class IncidentsChanged(Message):
    """The active (open or mitigated) incidents, newest first, after a store change."""

    incidents: list[Incident]


@dataclass
class IncidentWritten(Message):
    """The incident service changed ``incident`` (None: a note was added): ``said`` is what
    the operator is told, ``annotation`` what the dashboards get (None: nothing)."""

    incident: Incident | None
    said: str | None = None
    annotation: str | None = None
    #: How long ``said`` stays (None: the notification default).
    timeout: float | None = None

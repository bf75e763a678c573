"""Merging what several backends say about the same functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace

from console.core.model import SLO, Function, Signals

_FILL = ("owner", "oncall", "tier", "runbooks", "dependencies", "system", "lifecycle")
_SIGNAL_FIELDS = tuple(f.name for f in fields(Signals))


def _fill(into: Function, other: Function) -> Function:
    """``into`` with its empty metadata filled from ``other`` (first source wins)."""
    changes: dict[str, object] = {}
    for name in _FILL:
        if not getattr(into, name) and getattr(other, name):
            changes[name] = getattr(other, name)
    if into.slo == SLO() and other.slo != SLO():
        changes["slo"] = other.slo
    if other.labels:
        changes["labels"] = {**other.labels, **into.labels}
    return replace(into, **changes) if changes else into  # type: ignore[arg-type]


def merge_functions(lists: Sequence[Sequence[Function]]) -> list[Function]:
    """One list of functions from several inventories, in first-seen order.

    Functions with the same id merge (the first source's non-empty fields win). A
    service-level entry (no operation, e.g. a catalog Component) lends its owner, tier,
    SLO, runbooks and dependencies to every function of that service, and is listed on
    its own only when no other source reports a function of that service.
    """
    if len(lists) == 1:
        return list(lists[0])
    merged: dict[str, Function] = {}
    service_entries: dict[str, Function] = {}
    for fl in lists:
        for f in fl:
            if not f.operation:
                prev = service_entries.get(f.service)
                service_entries[f.service] = f if prev is None else _fill(prev, f)
            old = merged.get(f.id)
            merged[f.id] = f if old is None else _fill(old, f)
    services_with_ops = {f.service for f in merged.values() if f.operation}
    out: list[Function] = []
    for f in merged.values():
        if not f.operation and f.service in services_with_ops:
            continue
        entry = service_entries.get(f.service)
        if entry is not None and entry is not f:
            f = _fill(f, entry)
        out.append(f)
    return out


def _missing(value: object) -> bool:
    return value is None or value == {}


def merge_signals(maps: Sequence[Mapping[str, Signals]]) -> dict[str, Signals]:
    """One Signals per function: fields missing from one backend are taken from the next."""
    if not maps:
        return {}
    if len(maps) == 1:
        return dict(maps[0])
    out: dict[str, Signals] = dict(maps[0])
    for m in maps[1:]:
        for fid, s in m.items():
            have = out.get(fid)
            if have is None:
                out[fid] = s
                continue
            changes = {
                n: getattr(s, n)
                for n in _SIGNAL_FIELDS
                if _missing(getattr(have, n)) and not _missing(getattr(s, n))
            }
            if changes:
                out[fid] = replace(have, **changes)
    return out

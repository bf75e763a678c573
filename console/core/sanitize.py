"""Text from outside, made inert for a terminal: no control characters, no escape sequences.

Everything Callboard shows comes from systems that may be broken or hostile. A label value
holding ``ESC ] 52 ; c ; <base64> ESC \\`` would write the operator's clipboard, ``ESC [ 2 J``
would clear the screen. :func:`clean_line` and :func:`clean_text` remove whole escape
sequences (CSI, OSC, DCS/SOS/PM/APC strings ended by BEL or ST, other ``ESC x`` pairs, a
lone ESC, and their 8-bit C1 forms) and then every remaining C0/C1 control character.
:func:`clean_text` keeps tab and newline (multi-line fields: a stack trace, a note);
:func:`clean_line` turns them into spaces (a name, a label value).

Printable text — the common case — costs one ``str.isprintable`` call and is returned as
the very same object, so walking a 10,000-function fleet through :func:`clean_obj` costs
little (``bench/bench_sanitize.py``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from itertools import chain
from operator import attrgetter
from typing import Any, TypeVar

from console.core.logmodel import LogRecord
from console.core.model import Alert, Deploy, Function, Signals, Trace

__all__ = [
    "CONTROL",
    "SEQUENCE",
    "clean_line",
    "clean_obj",
    "clean_result",
    "clean_text",
    "clean_trace",
    "has_control",
]

_T = TypeVar("_T")

#: Any C0 control, DEL or C1 control: what a terminal may act on.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# One escape sequence, 7-bit or 8-bit. Strings (OSC, DCS, SOS, PM, APC) run to BEL or ST;
# an unterminated one runs to the end of the text (a terminal would swallow it too).
SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI: parameters, intermediates, final
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"  # any other ESC sequence (ESC c, ESC ( B, ...) or a lone ESC
)

_C0_C1 = {c: None for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]}
_MULTI = str.maketrans({**_C0_C1, 0x09: "\t", 0x0A: "\n", 0x0D: "\n"})
_SINGLE = str.maketrans({**_C0_C1, 0x09: " ", 0x0A: " ", 0x0D: " "})


def has_control(text: str) -> bool:
    """Whether ``text`` holds any C0/C1 control character (tab and newline included)."""
    return not text.isprintable() and CONTROL.search(text) is not None


def _clean(text: str, table: dict[int, Any]) -> str:
    if text.isprintable():  # the common case: no control character at all
        return text
    if CONTROL.search(text) is None:  # non-printing but harmless (NBSP, ZWJ, ...)
        return text
    if "\x1b" in text or any(c in text for c in "\x90\x98\x9b\x9d\x9e\x9f"):
        text = SEQUENCE.sub("", text)
    return text.replace("\r\n", "\n").translate(table)


def clean_line(text: str) -> str:
    """``text`` for a single-line field: sequences and controls removed, tab/newline → space."""
    return _clean(text, _SINGLE)


def clean_text(text: str) -> str:
    """``text`` for a multi-line field: sequences and controls removed, tab and newline kept
    (CR LF and a lone CR become a newline)."""
    return _clean(text, _MULTI)


#: Fields of model dataclasses that may hold several lines (everything else is one line).
MULTILINE_FIELDS = frozenset(
    {
        "summary",
        "description",
        "status_message",
        "attributes",
        "events",
        "message",
        "details",
        "body",  # a log record's: a stack trace keeps its lines
    }
)

_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}
#: Containers nested deeper than this are replaced by "…" (recursion stays bounded).
_MAX_DEPTH = 100


def _fields_of(cls: type) -> tuple[tuple[str, bool], ...]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple(
            (f.name, f.name in MULTILINE_FIELDS) for f in dataclasses.fields(cls)
        )
    return found


def clean_obj(obj: _T, *, multiline: bool = False, _depth: int = 0) -> _T:
    """``obj`` with every string cleaned: in dicts (keys too), lists, tuples and dataclasses.

    Dataclass fields named in :data:`MULTILINE_FIELDS` keep tab and newline, others get
    :func:`clean_line` (``multiline`` sets the rule for bare strings and containers).
    Nothing changed means the very same object back, so a clean fleet is not copied.
    Enum members (a ``StrEnum`` is a ``str``) and other values are returned as they are.
    """
    cleaned: _T = _walk(obj, multiline, _depth)
    return cleaned


def _walk(obj: Any, multiline: bool, depth: int) -> Any:
    cls = type(obj)
    if cls is str:
        return _clean(obj, _MULTI if multiline else _SINGLE)
    if obj is None or cls in (int, float, bool):
        return obj
    if depth > _MAX_DEPTH:  # absurd nesting: shown as a mark, never passed on unread
        return "…" if isinstance(obj, Mapping | list | tuple) else obj
    if cls is list or cls is tuple:
        items = [_walk(v, multiline, depth + 1) for v in obj]
        if all(a is b for a, b in zip(items, obj, strict=True)):
            return obj
        return items if cls is list else tuple(items)
    if isinstance(obj, Mapping):
        changed = False
        out: dict[Any, Any] = {}
        for k, v in obj.items():
            k2 = _walk(k, False, depth + 1)
            v2 = _walk(v, multiline, depth + 1)
            changed = changed or k2 is not k or v2 is not v
            out[k2] = v2
        return out if changed else obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for name, multi in _fields_of(cls):
            value = getattr(obj, name)
            new = _walk(value, multi, depth + 1)
            if new is not value:
                changes[name] = new
        return dataclasses.replace(obj, **changes) if changes else obj
    return obj


# -- a plugin's whole answer, fast --------------------------------------------------------
#
# A refresh at 10,000 functions brings ~200,000 strings. Walking each object field by field
# costs ~15 µs per function; joining every string of a batch with C-level iterators and
# asking ``isprintable`` once costs ~3 µs. Only a batch that fails is walked (per item).

_cat = chain.from_iterable


def _function_texts(fs: list[Function]) -> list[str]:
    return [
        f"{f.id}{f.service}{f.operation}{f.kind}{f.owner}{f.oncall}{f.source}{f.slo.window}"
        + "".join(f.runbooks)
        + "".join(f.dependencies)
        + "".join(f.labels)
        + "".join(f.labels.values())
        for f in fs
    ]


def _alert_texts(alerts: list[Alert]) -> list[str]:
    return [
        f"{a.name}{a.severity}{a.state}{a.since}{a.summary}{a.source}{a.function_id}"
        + "".join(a.labels)
        + "".join(a.labels.values())
        for a in alerts
    ]


def _deploy_texts(deploys: list[Deploy]) -> list[str]:
    return [
        f"{d.function_id}{d.version}{d.at}{d.author}{d.description}{d.previous_version}"
        for d in deploys
    ]


def _signals_texts(signals: dict[str, Signals]) -> Iterable[str]:
    values = signals.values()
    return chain(
        signals,
        _cat(map(attrgetter("error_ratio"), values)),
        _cat(map(attrgetter("requests"), values)),
        _cat(map(attrgetter("dependency_errors"), values)),
    )


def _log_texts(records: list[LogRecord]) -> list[str]:
    # repr() of the attributes escapes any control character (see _REPR_ESCAPE below)
    return [
        f"{r.service}{r.severity_text}{r.body}{r.trace_id}{r.span_id}{r.scope}{r.event_name}"
        f"{r.source}{r.severity}"
        + ("" if not r.attributes else _REPR_ESCAPE.sub("\x00", repr(r.attributes)))
        for r in records
    ]


#: One string per item holding all its text (f-strings: a ``None`` reads "None", harmless).
_BATCH: dict[type, Callable[[Any], list[str]]] = {
    Function: _function_texts,
    Alert: _alert_texts,
    Deploy: _deploy_texts,
    LogRecord: _log_texts,
}


def _printable(texts: Iterable[str]) -> bool:
    try:
        return "".join(texts).isprintable()
    except TypeError:  # a plugin put a non-string where a string belongs: walk it
        return False


# repr() of plain containers escapes every non-printable character (``\\x1b``, ``\\n``):
# a C-speed look at a trace's attributes and events. A false alarm only costs a walk.
_REPR_ESCAPE = re.compile(r"\\[xuUtnr]")


def _trace_is_clean(trace: Trace) -> bool:
    spans = trace.spans
    texts = chain(
        (trace.trace_id, trace.source),
        trace.warnings,
        _cat(map(attrgetter("trace_id", "span_id", "service", "name", "kind"), spans)),
        _cat(map(attrgetter("status", "status_message"), spans)),
        filter(None, map(attrgetter("parent_id"), spans)),
    )
    if not _printable(texts):
        return False
    extra = repr([(s.attributes, s.events) for s in spans])
    return _REPR_ESCAPE.search(extra) is None


def clean_trace(trace: Trace) -> Trace:
    """``trace`` with every string cleaned (names one line; attributes and events keep
    newlines: a stack trace stays readable); the same object when it is clean."""
    if type(trace) is Trace and _trace_is_clean(trace):
        return trace
    return clean_obj(trace)


def clean_result(result: _T) -> _T:
    """A plugin's answer (a list of functions, alerts or deploys, a signals map, a trace,
    anything) with every string cleaned as :func:`clean_obj` does; the same object back
    when it is clean, decided in one pass for the common batch types."""
    cleaned: _T = _clean_result(result)
    return cleaned


def _clean_result(result: Any) -> Any:
    if type(result) is list and result:
        kind = type(result[0])
        texts = _BATCH.get(kind)
        if texts is not None and all(type(x) is kind for x in result):
            try:
                each = texts(result)
            except TypeError:  # a plugin put a non-string where a string belongs: walk it
                return clean_obj(result)
            if "".join(each).isprintable():
                return result
            return [
                x if t.isprintable() else clean_obj(x) for x, t in zip(result, each, strict=True)
            ]
    elif type(result) is dict and result:
        values = list(result.values())
        if all(type(v) is Signals for v in values) and _printable(_signals_texts(result)):
            return result
    elif type(result) is Trace:
        return clean_trace(result)
    return clean_obj(result)

"""Text made inert for each export format: what comes from outside stays text.

- every format: no raw control bytes — terminal escape sequences (CSI, OSC, …) and C0/C1
  control characters are removed (tab and newline kept);
- Markdown: HTML is escaped (``<``, ``>``, ``&``) and link syntax from data is neutralised
  (``[`` and ``]`` escaped) except a plain ``[text](http(s)://…)`` link; images never
  load;
- CSV: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a ``'``
  first (OWASP's CSV injection advice), so no spreadsheet runs it as a formula;
- HTML: escape everything (``html.escape``) after removing control bytes;
- JSON: control characters stay data but only as ``\\u`` escapes, never raw bytes
  (:func:`utf8_inert`, when the export is encoded for a file or standard output).

Pure, no I/O.
"""

from __future__ import annotations

import re
from html import escape

#: ESC-introduced sequences: CSI (``ESC [ … final``), OSC/DCS/APC/PM/SOS strings (ended by
#: BEL or ST), and any other two-byte escape.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]?"
)
#: C0 controls but tab, newline and carriage return; DEL; C1 controls; lone surrogates (a
#: JSON string may decode to one, and no UTF-8 file can hold it).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: Cells a spreadsheet would read as a formula (OWASP CSV injection).
FORMULA_START = frozenset("=+-@\t\r")
#: A Markdown link kept as a link: http(s) only, nothing that could end it early.
_MD_LINK = re.compile(r"(!?)\[([^\[\]\n]{0,500})\]\((https?://[^\s()<>\"'`\\|]{1,2000})\)")
_JSON_RISKY = re.compile("[\x7f-\x9f\ud800-\udfff]")


def strip_controls(text: str) -> str:
    """``text`` without escape sequences or control characters (tab, newline and CR kept)."""
    # The common case, one C-speed scan: printable text has no control character at all.
    if text.isprintable() or not _CONTROL.search(text):
        return text
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
#: Anything ``md_text`` / ``html_text`` would change: one search decides most cells (times,
#: kinds, ids, plain words) are returned as they are.
_MD_ANY = re.compile(f"[{_CONTROLS}\\\\&<>\\[\\]|\r\n]").search
_HTML_ANY = re.compile(f"[{_CONTROLS}&<>\"']").search


def _md_escape(s: str) -> str:
    return (
        s.replace("\\", "\\\\")
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("[", "\\[")
        .replace("]", "\\]")
        .replace("|", "\\|")
        .replace("\r", "")
        .replace("\n", " ")
    )


def md_text(value: object) -> str:
    """``value`` as inline Markdown text: one line, safe in a table cell (``|`` escaped)."""
    s = value if type(value) is str else str(value)
    if _MD_ANY(s) is None:
        return s
    s = strip_controls(s)
    if "[" not in s:
        return _md_escape(s)
    out: list[str] = []
    pos = 0
    for m in _MD_LINK.finditer(s):
        out.append(_md_escape(s[pos : m.start()]))
        bang, label, url = m.groups()
        # An image would fetch its URL when the page is viewed: it stays text.
        out.append(_md_escape(m.group(0)) if bang else f"[{_md_escape(label)}]({url})")
        pos = m.end()
    out.append(_md_escape(s[pos:]))
    return "".join(out)


def md_code(value: object) -> str:
    """An identifier (a trace id) in a code span when it is a plain token, else as text."""
    s = str(value)
    return f"`{s}`" if re.fullmatch(r"[0-9A-Za-z._:/-]{1,200}", s) else md_text(s)


def csv_cell(value: str) -> str:
    """A CSV cell: no control bytes, line ends as ``\\n``, never the start of a formula."""
    value = strip_controls(value)
    formula = value[:1] in FORMULA_START
    if "\r" in value:  # a bare CR would end the row for some readers
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + value if formula else value


def html_text(value: object) -> str:
    """``value`` escaped for HTML text or a quoted attribute, without control bytes."""
    s = value if type(value) is str else str(value)
    return s if _HTML_ANY(s) is None else escape(strip_controls(s), quote=True)


def utf8_inert(text: str, *, json: bool = False) -> bytes:
    """``text`` as the UTF-8 bytes of a file. With ``json``, DEL, C1 characters and lone
    surrogates become ``\\u`` escapes (the same data; JSON encoders escape C0 already) —
    valid, because in JSON text they can only be inside strings.

    The common case costs one encode and two byte searches: a regex over an 80 MB string
    would cost several times the export itself.
    """
    try:
        data: bytes | None = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        data = None
    if not json:  # renderers strip these already: never fail on one, though
        return data if data is not None else text.encode("utf-8", "replace")
    # In UTF-8, U+0080..U+00BF start with 0xC2 and DEL is 0x7F: absent, nothing to escape.
    if data is not None and b"\x7f" not in data and b"\xc2" not in data:
        return data
    return _JSON_RISKY.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")

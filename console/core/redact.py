"""Redaction: every known secret value is replaced before text leaves the process.

Every output path (logs, events, exports, the screen, JSON) goes through :data:`REDACTOR`
(or :func:`redact` / :func:`redact_obj`). The secrets module registers each value it
resolves, so a value read once is hidden everywhere afterwards. With no secret known, each
call returns its input unchanged at the cost of one check.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "REDACTOR",
    "RedactingFilter",
    "Redactor",
    "clip",
    "drop_partial",
    "mask_credentials",
    "redact",
    "redact_obj",
]

#: Shorter values are ignored: redacting "abc" everywhere would mangle ordinary text.
MIN_SECRET_LENGTH = 4


_SECRET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def is_secret_name(name: object) -> bool:
    """A usable secret name: letters, digits, ``-``, ``_``, ``.``, starting alphanumeric."""
    return isinstance(name, str) and _SECRET_NAME.match(name) is not None


# A credential a backend echoes back (an error page quoting our request, a debug body):
# the header's value goes, whatever it is and whether or not we know it. The name is found
# by its key word (``x-auth-token`` by "token", ``set-cookie`` by "cookie") on the lower-cased
# text without IGNORECASE — a case-insensitive alternation scans ~40× slower, and this runs
# over every JSON document the CLI prints.
_KEYWORD = re.compile(r"authorization|cookie|token|secret|api[-_]?key|bearer|basic")
_WORDS = ("authorization", "cookie", "token", "secret", "api", "bearer", "basic")
_SEP = r"(\"?[ \t]*[:=][ \t]*\"?)"
# What a header's value is: a cookie runs to the end of the line (its ";" parts are all
# cookies), an Authorization is a scheme and one credential, anything else one token.
_AFTER_NAME = {
    "cookie": re.compile(_SEP + r"([^\r\n\"\\]+)"),
    "authorization": re.compile(_SEP + r"((?:[A-Za-z]+[ \t]+)?[^\s\"\\;,]+)"),
}
_AFTER_OTHER = re.compile(_SEP + r"([^\s\"\\;,&]+)")
# After a scheme ("Bearer eyJ…", "Basic dXNlcjpwYXNz"): one credential-looking word.
_AFTER_SCHEME = re.compile(r"[ \t]+([A-Za-z0-9._~+/=-]{8,})")


def _credential_like(word: str, scheme: str) -> bool:
    """Whether the word after ``Bearer``/``Basic``/``token`` looks like a credential rather
    than prose ("basic information"): a digit or + / = . in it, or (base64) mixed case."""
    if any(c.isdigit() or c in "+/=." for c in word):
        return True
    return scheme == "basic" and len(word) % 4 == 0 and not word.islower() and not word.isupper()


_SCHEMES = frozenset({"bearer", "basic", "token"})
# A run of whitespace as it may come back: spaces, tabs, newlines, or URL-encoded.
_SPACES = re.compile(r"(?:\s|\+|%20)+")
_ANY_SPACES = r"(?:\s|\+|%20)+"
MASK = "«redacted»"


def mask_credentials(text: str) -> str:
    """``text`` with the value of every credential header or ``Bearer``/``Basic`` credential
    replaced by :data:`MASK` (values already redacted by name are kept)."""
    low = text.lower()
    if not any(word in low for word in _WORDS):  # the common case, at substring-search speed
        return text
    if len(low) != len(text):  # a character whose lower case is longer: indexes would drift
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    out: list[str] = []
    last = 0
    for m in _KEYWORD.finditer(low):
        if m.start() < last:
            continue
        word = m.group(0)
        after = None
        if word not in ("bearer", "basic"):
            after = _AFTER_NAME.get(word, _AFTER_OTHER).match(text, m.end())
        if after is not None:
            value_start, end = after.start(2), after.end(2)
        elif word in _SCHEMES and (after := _AFTER_SCHEME.match(text, m.end())) is not None:
            if not _credential_like(after.group(1), word):
                continue
            value_start, end = after.start(1), after.end(1)
        else:
            continue
        if "«redacted" in text[value_start:end]:  # a known secret, already named
            continue
        out.append(text[last:value_start])
        out.append(MASK)
        last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _form_pattern(form: str) -> str:
    """A secret as a regex: any run of whitespace in it matches any other run (a token with
    two spaces collapsed to one by someone's error formatting is still found)."""
    parts = _SPACES.split(form)
    return _ANY_SPACES.join(map(re.escape, parts)) if len(parts) > 1 else re.escape(form)


class Redactor:
    """Replaces known secret values in text by ``«redacted:NAME»`` (or ``***`` if unnamed).

    Each secret is also found in its known encodings — URL-encoded (``%20`` and ``+``),
    JSON-escaped, base64, and for basic auth the base64 of ``user:password`` — and with any
    whitespace run matching any other. Credential headers echoed back (``Authorization``,
    ``Cookie``, ``Set-Cookie``, ``*-Token``, ``X-Api-Key``…) and ``Bearer``/``Basic``
    credentials are masked even when the value is not known.
    """

    def __init__(self) -> None:
        self._names: dict[str, str | None] = {}
        self._by_spaces: dict[str, str | None] = {}
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._names)

    def add(self, value: str, name: str | None = None) -> None:
        """Remember ``value`` (and its URL-, JSON- and base64-encoded forms) as a secret.

        Values shorter than :data:`MIN_SECRET_LENGTH` are ignored.
        """
        if not isinstance(value, str) or len(value.strip()) < MIN_SECRET_LENGTH:
            return
        raw = value.strip()
        forms = {raw, quote(raw, safe=""), quote_plus(raw, safe=""), json.dumps(raw)[1:-1]}
        if len(raw) >= 6:  # base64 of a short value is an ordinary-looking word
            b64 = base64.b64encode(raw.encode()).decode()
            forms |= {b64, b64.rstrip("=")}
        self._add_forms(forms, name)

    def add_basic(self, username: str, password: str, name: str | None = None) -> None:
        """Remember basic-auth credentials: the password, and ``user:password`` as sent
        (base64) — a backend that echoes ``Authorization: Basic …`` gives nothing away."""
        self.add(password, name)
        if not isinstance(password, str) or len(password) < MIN_SECRET_LENGTH:
            return
        pair = f"{username}:{password}"
        b64 = base64.b64encode(pair.encode()).decode()
        self._add_forms({b64, b64.rstrip("="), pair}, name)

    def _add_forms(self, forms: set[str], name: str | None) -> None:
        with self._lock:
            for form in forms:
                if self._names.get(form) is None:
                    self._names[form] = name
                key = _SPACES.sub(" ", form)
                if self._by_spaces.get(key) is None:
                    self._by_spaces[key] = name
            # Longest first, so a secret containing another is replaced whole.
            ordered = sorted(self._names, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(_form_pattern, ordered)))

    def clear(self) -> None:
        """Forget every secret (tests)."""
        with self._lock:
            self._names.clear()
            self._by_spaces.clear()
            self._pattern = None

    def _mask(self, match: re.Match[str]) -> str:
        text = match.group(0)
        name = self._names.get(text) or self._by_spaces.get(_SPACES.sub(" ", text))
        return f"«redacted:{name}»" if name else "***"

    def redact(self, text: str) -> str:
        """``text`` with every known secret and echoed credential replaced."""
        if not isinstance(text, str):
            return text
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(self._mask, text)
        return mask_credentials(text)

    def drop_partial(self, text: str, *, at_start: bool = False) -> str:
        """``text`` without a secret cut in two at its end (or start): the longest end of
        ``text`` that begins a known secret form (or ends one) is dropped.

        For text someone truncated: redaction cannot recognise half a secret, so a cut
        edge must not keep one.
        """
        if not self._names or not text:
            return text
        cut = 0
        for form in self._names:
            for k in range(min(len(form) - 1, len(text)), cut, -1):
                if text.startswith(form[-k:]) if at_start else text.endswith(form[:k]):
                    cut = k
                    break
        if not cut:
            return text
        return text[cut:] if at_start else text[:-cut]

    def clip(self, text: str, limit: int, *, tail: bool = False, mark: str = "…") -> str:
        """``text`` redacted, *then* cut to at most ``limit`` characters (its end when
        ``tail``), a partial secret at the cut dropped, ``mark`` where it was cut."""
        text = self.redact(text)
        if len(text) <= limit:
            return text
        keep = max(limit - len(mark), 0)
        if tail:
            part = text[len(text) - keep :]
            close, open_ = part.find("»"), part.find("«")
            if close != -1 and (open_ == -1 or close < open_):  # half a «redacted…» marker
                part = part[close + 1 :]
            return mark + self.drop_partial(part, at_start=True)
        part = text[:keep]
        if part.rfind("«") > part.rfind("»"):  # the cut fell inside a «redacted…» marker
            part = part[: part.rfind("«")]
        return self.drop_partial(part) + mark

    def redact_obj(self, obj: Any) -> Any:
        """A copy of ``obj`` with secrets replaced in every string, dict key and list item.

        Dicts, lists and tuples are rebuilt; other values (numbers, None) are returned as is.
        """
        if self._pattern is None:
            return obj
        return self._walk(obj, 0)

    def _walk(self, obj: Any, depth: int) -> Any:
        if isinstance(obj, str):
            return self.redact(obj)
        if depth > 100:  # a cycle or absurd nesting: hide it rather than recurse forever
            return "***"
        if isinstance(obj, dict):
            return {self._walk(k, depth + 1): self._walk(v, depth + 1) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self._walk(v, depth + 1) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self._walk(v, depth + 1) for v in obj)
        return obj


#: The process-wide redactor every output path uses.
REDACTOR = Redactor()


def redact(text: str) -> str:
    """:meth:`Redactor.redact` on :data:`REDACTOR`."""
    return REDACTOR.redact(text)


def redact_obj(obj: Any) -> Any:
    """:meth:`Redactor.redact_obj` on :data:`REDACTOR`."""
    return REDACTOR.redact_obj(obj)


def clip(text: str, limit: int, *, tail: bool = False, mark: str = "…") -> str:
    """:meth:`Redactor.clip` on :data:`REDACTOR`: redact, then truncate."""
    return REDACTOR.clip(text, limit, tail=tail, mark=mark)


def drop_partial(text: str, *, at_start: bool = False) -> str:
    """:meth:`Redactor.drop_partial` on :data:`REDACTOR`."""
    return REDACTOR.drop_partial(text, at_start=at_start)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the message, its arguments and any traceback text.

    Attach it to *handlers* (``handler.addFilter(RedactingFilter())``): a filter on a logger
    does not see records propagated from its child loggers.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        r = self._redactor or REDACTOR
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad format args: keep both parts, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = r.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = r.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = r.redact(record.stack_info)
        return True

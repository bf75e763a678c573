"""A cheaper ``__init__`` for the frozen, slotted dataclasses made by the ten thousand.

A frozen dataclass's generated ``__init__`` stores each field with
``object.__setattr__(self, name, value)``: a global lookup, an attribute lookup, the
generic attribute machinery and a type lookup of the name, per field. A refresh at 10,000
functions makes 20,000 ``Signals`` (24 fields) this way, ~2.8 µs each. Storing each field
through its slot's own descriptor (``Signals.rate_rps.__set__``, bound once) does exactly the
same store without the lookups: ~1.7 µs.

:func:`fast_init` replaces the generated ``__init__`` with one of the same signature (the
same parameters, order, defaults and default factories, evaluated as the dataclass does)
that stores the fields that way. It accepts only what it can reproduce: a frozen, slotted
dataclass whose fields are all ``init`` fields, with no ``__post_init__`` and no ``InitVar``.
Equality, hashing, ``repr``, ``replace`` and pickling are the dataclass's own, unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

_C = TypeVar("_C")


def fast_init(cls: type[_C]) -> type[_C]:
    """``cls`` with its dataclass ``__init__`` replaced as the module text says."""
    target: Any = cls  # a dataclass, checked below
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"fast_init: {cls.__name__} is not a frozen, slotted dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"fast_init: {cls.__name__} has a __post_init__")
    fields = dataclasses.fields(target)
    if len(fields) != len(target.__dataclass_fields__):
        raise TypeError(f"fast_init: {cls.__name__} has an InitVar or ClassVar pseudo-field")
    # The dataclass's own "use the factory" default, so the signature reads as before.
    factory_default = getattr(dataclasses, "_HAS_DEFAULT_FACTORY", dataclasses.MISSING)
    names: dict[str, Any] = {"_MISSING": factory_default}
    args: list[str] = []
    body: list[str] = []
    for i, f in enumerate(fields):
        if not f.init or f.kw_only:
            raise TypeError(f"fast_init: {cls.__name__}.{f.name} is not a plain init field")
        names[f"_set{i}"] = cls.__dict__[f.name].__set__  # the slot's member descriptor
        if f.default is not dataclasses.MISSING:
            names[f"_dflt{i}"] = f.default
            args.append(f"{f.name}=_dflt{i}")
            body.append(f"    _set{i}(self, {f.name})")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_factory{i}"] = f.default_factory
            args.append(f"{f.name}=_MISSING")
            body.append(f"    _set{i}(self, _factory{i}() if {f.name} is _MISSING else {f.name})")
        else:  # required (the dataclass has already refused one after a default)
            args.append(f.name)
            body.append(f"    _set{i}(self, {f.name})")
    source = f"def __init__(self, {', '.join(args)}):\n" + "\n".join(body or ["    pass"])
    exec(source, names)  # generated from the class's own field names, as dataclasses does
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = target.__init__.__doc__
    init.__annotations__ = dict(target.__init__.__annotations__)
    target.__init__ = init
    return cls

"""``fast_init``: the cheaper constructor builds exactly what the dataclass's own would."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field
from typing import Any

import pytest

from console.core.fastinit import fast_init
from console.core.model import SLO, Function, Kind, Signals


@dataclass(frozen=True, slots=True)
class Plain:
    """A twin built by the dataclass's own ``__init__``."""

    a: int
    b: str = "b"
    c: dict[str, int] = field(default_factory=dict)
    d: tuple[int, ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class Fast:
    a: int
    b: str = "b"
    c: dict[str, int] = field(default_factory=dict)
    d: tuple[int, ...] = ()


def as_tuple(obj: Any) -> tuple[Any, ...]:
    return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1,), {}), ((1, "x"), {}), ((1,), {"d": (2,)}), ((), {"a": 3, "c": {"k": 1}})],
)
def test_same_fields_as_the_dataclass_init(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    assert as_tuple(Fast(*args, **kwargs)) == as_tuple(Plain(*args, **kwargs))


def test_each_instance_gets_its_own_factory_default() -> None:
    one, two = Fast(1), Fast(1)
    assert one.c == {} and one.c is not two.c
    given = {"k": 1}
    assert Fast(1, c=given).c is given


def test_same_signature_and_errors() -> None:
    assert str(inspect.signature(Fast)) == str(inspect.signature(Plain))
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'a'"):
        Fast()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for argument 'a'"):
        Fast(1, a=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected keyword argument 'e'"):
        Fast(1, e=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional arguments"):
        Fast(1, "b", {}, (), 5)  # type: ignore[call-arg]


def test_still_frozen_equal_replaceable_and_picklable() -> None:
    f = Fast(1, d=(2,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.a = 2  # type: ignore[misc]
    assert f == Fast(1, d=(2,)) and f != Fast(2, d=(2,))
    assert dataclasses.replace(f, a=5) == Fast(5, d=(2,))
    assert pickle.loads(pickle.dumps(f)) == f
    assert repr(f) == "Fast(a=1, b='b', c={}, d=(2,))"


def test_the_model_classes_it_speeds_up_build_the_same() -> None:
    s = Signals(rate_rps=2.0, error_ratio={"5m": 0.1}, latency_capped=("p99_ms",))
    assert s.rate_rps == 2.0 and s.success_rate is None and s.requests == {}
    assert s.error_ratio == {"5m": 0.1} and s.latency_capped == ("p99_ms",)
    assert Signals() == Signals() and Signals().requests is not Signals().requests
    fn = Function("a:b", "a", "b", Kind.RPC)
    assert (fn.id, fn.service, fn.operation, fn.kind, fn.slo, fn.labels) == (
        "a:b",
        "a",
        "b",
        Kind.RPC,
        SLO(),
        {},
    )


def test_refuses_what_it_cannot_reproduce() -> None:
    @dataclass(slots=True)
    class Mutable:
        a: int = 0

    @dataclass(frozen=True)
    class NoSlots:
        a: int = 0

    @dataclass(frozen=True, slots=True)
    class PostInit:
        a: int = 0

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class KwOnly:
        a: int = field(default=0, kw_only=True)

    @dataclass(frozen=True, slots=True)
    class NotInit:
        a: int = field(default=0, init=False)

    for cls in (Mutable, NoSlots, PostInit, KwOnly, NotInit):
        with pytest.raises(TypeError, match="fast_init"):
            fast_init(cls)

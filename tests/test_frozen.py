"""pwapply.frozen: a class made by @frozen does what @dataclass(frozen=True) does."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Optional, Tuple

import pytest

from pwapply.frozen import frozen


@frozen
class Made:
    name: str
    size: int = 0
    note: Optional[str] = None
    parts: Tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Plain:
    name: str
    size: int = 0
    note: Optional[str] = None
    parts: Tuple[str, ...] = ()


CASES = [("a",), ("a", 1), ("a", 1, "n"), ("b", 2, None, ("x", "y")), ("", 0, "", ())]


@pytest.mark.parametrize("args", CASES)
def test_like_a_frozen_dataclass(args):
    made, plain = Made(*args), Plain(*args)
    assert repr(made) == repr(plain).replace("Plain(", "Made(")
    assert hash(made) == hash(plain)
    assert made == Made(*args) and not made != Made(*args)
    assert dataclasses.astuple(made) == dataclasses.astuple(plain)
    moved = dataclasses.replace(made, size=7)
    assert moved.size == 7 and dataclasses.astuple(moved)[2:] == dataclasses.astuple(made)[2:] and made.size != 7
    assert pickle.loads(pickle.dumps(made)) == made
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del made.size


def test_equal_only_to_its_own_class_with_equal_fields():
    assert Made("a") != Made("b")
    assert Made("a", 1) != Made("a", 2)
    other: object = Plain("a")
    assert Made("a") != other  # the same fields, another class: as dataclasses
    assert Made("a").__eq__(("a", 0, None, ())) is NotImplemented
    assert len({Made("a"), Made("a"), Made("b")}) == 2


def test_a_subclass_has_its_own_fields():
    @frozen
    class More(Made):
        extra: int = 0

    assert (
        repr(More("a", extra=2))
        == "test_a_subclass_has_its_own_fields.<locals>.More(name='a', size=0, note=None, parts=(), extra=2)"
    )
    assert More("a", extra=1) != More("a", extra=2)
    assert More("a") != Made("a")


def test_a_field_that_opts_out_gets_dataclasses_own_methods():
    @frozen
    class Odd:
        name: str
        seen: int = dataclasses.field(default=0, compare=False)

    assert Odd("a", 1) == Odd("a", 2) and hash(Odd("a", 1)) == hash(Odd("a", 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        Odd("a").name = "b"  # type: ignore[misc]


def test_a_method_of_the_class_stays():
    @frozen
    class Named:
        name: str

        def __repr__(self) -> str:
            return f"<{self.name}>"

    assert repr(Named("a")) == "<a>" and Named("a") == Named("a")


def test_a_base_field_that_opts_out_is_refused_by_name():
    @dataclasses.dataclass(frozen=True)
    class Base:
        seen: int = dataclasses.field(default=0, compare=False)

    with pytest.raises(
        TypeError, match=r"\.Sub: a field of a base class is not compared, hashed or shown: use dataclass$"
    ):

        @frozen
        class Sub(Base):
            name: str = ""

"""``@frozen``: ``@dataclass(frozen=True)`` at half the cost of making the class.

dataclasses writes and compiles each method of each class as the module is imported:
five compilations a frozen class (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__``/``__delattr__``), 0.76 ms a class here on Python 3.11; a run of the apply
imports about 55 such classes, 40 ms of its start.  Here dataclasses makes only what
must be made for each class (the ``__init__`` with its fields and defaults, and what
keeps the class frozen); comparing, hashing and printing are the same three functions
for every class, reading the fields' names kept on it.  What the classes do is
dataclasses' own: equal when of the same class with equal fields, hashed by the fields,
printed as ``Name(field=value, ...)``, frozen, and ``dataclasses.replace``/``fields``
work on them.  A class with a field that opts out of comparing, hashing or printing gets
dataclasses' own methods.  Pure.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, fields
from typing import TYPE_CHECKING, Any, Callable, Tuple, Type, TypeVar

T = TypeVar("T")

if TYPE_CHECKING:  # for the type checker: a frozen dataclass (PEP 681)
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Callable[[T], T]:
        return lambda f: f


_NAMES = "_frozen_fields"


@dataclass_transform(frozen_default=True)
def frozen(cls: Type[T]) -> Type[T]:
    """A frozen dataclass of ``cls`` (see the module's docstring)."""
    if any(isinstance(v, Field) and not _plain(v) for v in vars(cls).values()):
        return dataclass(frozen=True)(cls)
    made = dataclass(frozen=True, eq=False, repr=False)(cls)
    own = fields(made)  # type: ignore[arg-type]
    if not all(_plain(f) for f in own):
        raise TypeError(f"{cls.__qualname__}: a field of a base class is not compared, hashed or shown: use dataclass")
    setattr(made, _NAMES, tuple(f.name for f in own))
    for name, method in (("__eq__", _eq), ("__hash__", _hash), ("__repr__", _repr)):
        if name not in vars(cls):  # as dataclasses: the class's own method stays
            setattr(made, name, method)
    return made


def _plain(f: "Field[Any]") -> bool:
    return bool(f.compare and f.repr and f.hash is None)


def _values(obj: Any) -> Tuple[Any, ...]:
    return tuple([getattr(obj, name) for name in getattr(obj, _NAMES)])


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        return _values(self) == _values(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in getattr(self, _NAMES))
    return f"{self.__class__.__qualname__}({shown})"

"""Validated descriptors: each setting checks and cleans its value on every assignment.

The ``Validated`` pattern from *Fluent Python*: ``__set_name__`` learns the attribute name,
``__set__`` runs ``validate`` and stores the cleaned value in the instance ``__dict__`` under
that name (a data descriptor wins over the instance dict, and instances stay picklable).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from workbench.errors import ConfigError
from workbench.redaction import redact

__all__ = [
    "Bool",
    "BoundedFloat",
    "Choice",
    "Names",
    "OptionalPositiveInt",
    "PositiveInt",
    "Subset",
    "Validated",
    "declared",
]

V = TypeVar("V", bound="Validated")
N = TypeVar("N", int, float)

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class Validated(abc.ABC):
    """A data descriptor that validates and cleans every value assigned to its attribute."""

    #: What a valid value looks like, completing "expected ...".
    expected: str = "a valid value"

    def __init__(self, *, default: Any = None, optional: bool = False) -> None:
        # ``default`` may be a zero-argument callable, evaluated each time it is needed.
        self.default = default
        self.optional = optional
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        """Remember the attribute name, used for storage and in error messages."""
        self.name = name

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        """Return the stored value, or the descriptor itself when read from the class."""
        if instance is None:
            return self
        try:
            return instance.__dict__[self.name]
        except KeyError:
            raise AttributeError(f"{self.name} has not been set") from None

    def __set__(self, instance: object, value: Any) -> None:
        """Validate ``value`` and store the cleaned result in the instance."""
        cleaned = None if value is None and self.optional else self.validate(self.name, value)
        instance.__dict__[self.name] = cleaned

    def default_value(self) -> Any:
        """Return the default, calling it first when it is a factory."""
        return self.default() if callable(self.default) else self.default

    def fail(self, name: str, value: object) -> ConfigError:
        """Build the one-line error naming the setting, the (redacted) value and the expectation."""
        shown = repr(redact(value)) if isinstance(value, str) else redact(repr(value))
        return ConfigError(f"{name}: expected {self.expected}, got {shown}")

    @abc.abstractmethod
    def validate(self, name: str, value: Any) -> Any:
        """Return the cleaned ``value`` or raise the ``ConfigError`` from ``fail``."""


class PositiveInt(Validated):
    """An integer >= 1 (and <= ``max`` if given); int-like strings from env vars are accepted."""

    def __init__(self, *, max: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max = max
        self.expected = "a positive integer" + (f" <= {max}" if max is not None else "")

    def validate(self, name: str, value: Any) -> int:
        """Accept ints and decimal strings; reject bools, floats, zero, negatives, > max."""
        number = _as_int(value)
        if number is None or number < 1 or (self.max is not None and number > self.max):
            raise self.fail(name, value)
        return number


class OptionalPositiveInt(PositiveInt):
    """A ``PositiveInt`` that may also be ``None`` ("no limit")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(optional=True, **kwargs)
        self.expected += " or None"


class BoundedFloat(Validated):
    """A finite number in the closed range ``[lo, hi]``, returned as a float."""

    def __init__(self, lo: float, hi: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lo, self.hi = lo, hi
        self.expected = f"a number between {lo} and {hi}"

    def validate(self, name: str, value: Any) -> float:
        """Accept ints, floats and numeric strings inside the range; reject bools and NaN."""
        number = _as_float(value)
        if number is None or not self.lo <= number <= self.hi:  # NaN fails every comparison
            raise self.fail(name, value)
        return number


class Choice(Validated):
    """One of a fixed set of strings, matched case-insensitively and returned as spelled here.

    ``aliases`` maps other accepted names to the option they stand for (``multi`` ->
    ``multiprocess``).
    """

    def __init__(
        self, *options: str, aliases: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.options = options
        self.aliases = {k.casefold(): v for k, v in (aliases or {}).items()}
        also = f" (or {', '.join(f'{k} for {v}' for k, v in self.aliases.items())})"
        self.expected = f"one of {', '.join(options)}{also if self.aliases else ''}"

    def canonical(self, value: Any) -> str | None:
        """Return the option ``value`` names, or ``None`` when it names none."""
        if isinstance(value, str):
            wanted = value.strip().casefold()
            wanted = self.aliases.get(wanted, wanted).casefold()
            return next((o for o in self.options if o.casefold() == wanted), None)
        return None

    def validate(self, name: str, value: Any) -> str:
        """Return the canonical spelling of the chosen option."""
        option = self.canonical(value)
        if option is None:
            raise self.fail(name, value)
        return option


class Subset(Choice):
    """A non-empty tuple of distinct options; a string is read as a comma-separated list."""

    def __init__(self, *options: str, **kwargs: Any) -> None:
        super().__init__(*options, **kwargs)
        self.expected = f"a non-empty comma-separated list of {', '.join(options)}"

    # Choice's options and aliases, but a tuple of them: the override is the point.
    def validate(self, name: str, value: Any) -> tuple[str, ...]:  # type: ignore[override]
        """Return the chosen options in the order given, without duplicates."""
        items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
        try:
            # Blank items come from "posts," or "posts,,todos": harmless, so skip them.
            chosen = [
                self.canonical(i) for i in items if not (isinstance(i, str) and not i.strip())
            ]
        except TypeError:  # not iterable at all
            raise self.fail(name, value) from None
        if not chosen or None in chosen:
            raise self.fail(name, value)
        return tuple(dict.fromkeys(filter(None, chosen)))


class Names(Validated):
    """A tuple of names (hosts, say), possibly empty; a string is a comma-separated list."""

    expected = "a comma-separated list of names without spaces"

    def validate(self, name: str, value: Any) -> tuple[str, ...]:
        """Return the names in the order given, without blanks or duplicates."""
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise self.fail(name, value)
        names = [item.strip() for item in items if item.strip()]
        if any(" " in each for each in names):
            raise self.fail(name, value)
        return tuple(dict.fromkeys(names))


class Bool(Validated):
    """A boolean; env-var spellings true/false, yes/no, on/off and 1/0 are accepted."""

    expected = "a boolean (true/false, yes/no, on/off, 1/0)"

    def validate(self, name: str, value: Any) -> bool:
        """Return ``value`` as a bool, accepting the usual string and 0/1 spellings."""
        if isinstance(value, bool):
            return value
        if type(value) is int and value in (0, 1):
            return bool(value)
        text = value.strip().casefold() if isinstance(value, str) else None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise self.fail(name, value)


def declared(owner: type, kind: type[V] = Validated) -> dict[str, V]:  # type: ignore[assignment]
    """Return the ``kind`` descriptors of ``owner`` by name, base classes' first, in order."""
    found: dict[str, V] = {}
    for klass in reversed(owner.__mro__):
        found.update((k, v) for k, v in vars(klass).items() if isinstance(v, kind))
    return found


def _as_int(value: Any) -> int | None:
    """Read an int or a decimal string; ``None`` for anything else, bools included."""
    return _as_number(value, int)


def _as_float(value: Any) -> float | None:
    """Read an int, a float or a numeric string as a float; ``None`` for anything else."""
    number = _as_number(value, float) if not isinstance(value, int) else _as_number(value, int)
    return None if number is None else float(number)


def _as_number(value: Any, kind: type[N]) -> N | None:
    """Read ``value`` as ``kind`` from a number of that kind or a string; else None."""
    if isinstance(value, bool):  # bool is an int subclass, but True is not a page size
        return None
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value.strip())
        except ValueError:
            return None
    return None

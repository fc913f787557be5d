"""Model answer to exercise 03: ``Field``, a validating descriptor, and a ``Settings`` base.

``Field`` is one more ``workbench.validators.Validated``: the base class already stores each
cleaned value in the instance's ``__dict__`` under the attribute's own name (learnt in
``__set_name__``) and validates on every assignment; a field adds its type, its range and
whether it is secret. ``Settings`` assigns every field and shows secrets as ``***``.
"""

from __future__ import annotations

from typing import Any

from workbench.errors import ConfigError
from workbench.redaction import MASK
from workbench.validators import Validated, declared

__all__ = ["REQUIRED", "Field", "Settings"]

#: The default of a field that must be given.
REQUIRED: Any = object()


class Field(Validated):
    """A setting of type ``kind``, within ``[min, max]`` if given, maybe secret."""

    def __init__(
        self,
        kind: type[Any],
        *,
        min: float | None = None,
        max: float | None = None,
        default: Any = REQUIRED,
        secret: bool = False,
    ) -> None:
        super().__init__(default=default)
        self.kind, self.min, self.max, self.secret = kind, min, max, secret
        bounds = [f">= {min}"] * (min is not None) + [f"<= {max}"] * (max is not None)
        self.expected = " ".join([f"a {kind.__name__}", " and ".join(bounds)]).strip()

    def validate(self, name: str, value: Any) -> Any:
        """Return ``value`` (an int made a float for a float field) or raise ``ConfigError``."""
        # bool is a subclass of int, but True is not a port number.
        if isinstance(value, bool) and self.kind is not bool:
            raise self.fail(name, value)
        if self.kind is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, self.kind):
            raise self.fail(name, value)
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            raise self.fail(name, value)
        return value

    def fail(self, name: str, value: object) -> ConfigError:
        """Name the field and what was expected; show the value unless it is secret."""
        if self.secret:
            return ConfigError(f"{name}: expected {self.expected}, got a {type(value).__name__}")
        return super().fail(name, value)


class Settings:
    """Settings built from keyword arguments: every ``Field`` assigned, secrets never shown."""

    def __init__(self, **values: Any) -> None:
        fields = self.fields()
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")
        for name, field in fields.items():
            if name in values:
                setattr(self, name, values[name])
            elif field.default is not REQUIRED:
                setattr(self, name, field.default_value())
            else:
                raise ConfigError(f"{name}: required, and not given")

    @classmethod
    def fields(cls) -> dict[str, Field]:
        """Return the class's fields by name, base classes' first, in declaration order."""
        return declared(cls, Field)

    def __repr__(self) -> str:
        shown = (
            f"{name}={MASK!r}" if field.secret else f"{name}={getattr(self, name)!r}"
            for name, field in self.fields().items()
        )
        return f"{type(self).__name__}({', '.join(shown)})"

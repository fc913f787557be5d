"""Schemas of the JSONPlaceholder resources: required fields, their types, a positive ``id``.

Type rules, strict because the source speaks JSON and its types are part of the contract:

* ``int`` accepts a real int, never a ``bool`` (``True`` is an ``int`` in Python but not in
  JSON) and never a string such as ``"1"``. An integral float (``1.0``, which some JSON
  writers produce) is accepted and rewritten as the int ``1``, so it stores and checksums
  the same as ``1``; ``1.5``, NaN and the infinities are rejected.
* ``str`` and ``bool`` accept exactly those types (no ``0``/``1`` or ``"true"`` for a bool).
* A nested object must be a JSON object and is checked field by field.
* ``id`` must be >= 1 in every schema.

Fields a schema does not name are kept untouched. A resource without a schema here gets
one that requires only ``id``, so a new source works without code changes.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

from workbench.errors import ValidationError

__all__ = ["SCHEMAS", "Fields", "Schema", "schema_for"]

#: Required fields of one JSON object, in order: ``(name, kind)`` where ``kind`` is ``int``,
#: ``str``, ``bool`` or, for a nested object, another ``Fields`` tuple.
Fields = tuple[tuple[str, Union[type, "Fields"]], ...]

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40


def _fields(**kinds: type | Fields) -> Fields:
    """Write a ``Fields`` tuple as keyword arguments, which keep their order."""
    return tuple(kinds.items())


def _describe(value: object) -> str:
    """Name a value's JSON-ish type and show a short repr of it, for a reject reason."""
    if value is None:
        return "null"
    return f"{type(value).__name__} {_short.repr(value)}"


def _wrong_type(path: str, expected: str, value: object) -> ValidationError:
    """Build the error for a field whose value has the wrong type."""
    return ValidationError(
        f"field {path!r}: expected {expected}, got {_describe(value)}", field=path
    )


def _as_int(value: object, path: str) -> int:
    """Return ``value`` as an int under the module's rules, or raise ``ValidationError``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _wrong_type(path, "int", value)


def _check(obj: dict[str, Any], fields: Fields, prefix: str) -> None:
    """Check ``obj`` against ``fields`` in place, rewriting integral floats as ints."""
    for name, kind in fields:
        path = prefix + name
        try:
            value = obj[name]
        except KeyError:
            raise ValidationError(f"missing required field {path!r}", field=path) from None
        # ``type(...) is`` first: it is the common case and excludes bool from int for free.
        if kind is int:
            if type(value) is not int:
                obj[name] = _as_int(value, path)
        elif kind is str or kind is bool:
            if type(value) is not kind:
                raise _wrong_type(path, kind.__name__, value)
        elif isinstance(value, dict):
            _check(value, kind, path + ".")  # type: ignore[arg-type]
        else:
            raise _wrong_type(path, "object", value)


@dataclass(frozen=True, slots=True)
class Schema:
    """The required fields of one resource's records; ``id`` is always required and positive."""

    resource: str
    fields: Fields

    def validate(self, record: dict[str, Any]) -> None:
        """Raise ``ValidationError`` naming the first broken field; fix integral floats in place."""
        _check(record, self.fields, "")
        record_id = record["id"]
        if record_id < 1:
            raise ValidationError(
                f"field 'id': expected a positive int, got {record_id!r}", field="id"
            )


_ID: Fields = _fields(id=int)

#: The schema of every JSONPlaceholder resource, by resource name.
SCHEMAS: Mapping[str, Schema] = {
    schema.resource: schema
    for schema in (
        Schema("posts", _fields(userId=int, id=int, title=str, body=str)),
        Schema("comments", _fields(postId=int, id=int, name=str, email=str, body=str)),
        Schema("albums", _fields(userId=int, id=int, title=str)),
        Schema("photos", _fields(albumId=int, id=int, title=str, url=str, thumbnailUrl=str)),
        Schema("todos", _fields(userId=int, id=int, title=str, completed=bool)),
        Schema(
            "users",
            _fields(
                id=int,
                name=str,
                username=str,
                email=str,
                address=_fields(
                    street=str,
                    suite=str,
                    city=str,
                    zipcode=str,
                    geo=_fields(lat=str, lng=str),
                ),
                phone=str,
                website=str,
                company=_fields(name=str, catchPhrase=str, bs=str),
            ),
        ),
    )
}


def schema_for(resource: str) -> Schema:
    """Return the schema of ``resource``, or one requiring only a positive ``id`` if unknown."""
    schema = SCHEMAS.get(resource)
    return schema if schema is not None else Schema(resource, _ID)

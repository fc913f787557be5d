"""Content checksums: BLAKE2b-128 of a record's canonical JSON (sorted keys, compact, UTF-8).

The checksum decides whether a stored record changed, so it must never drift: the same data
gives the same digest in any process, on any run, whichever encoder wrote the bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["canonical_json", "content_checksum"]

_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
# orjson writes the same bytes as _CANONICAL for str keys and str, int (64 bits), bool, None,
# list and dict values, ten times faster; not for floats (its repr differs) or NaN (it
# writes null), nor for the types json refuses (it writes datetimes, UUIDs, dataclasses).
_ORJSON_INT_RANGE = range(-(2**63), 2**64)
_ORJSON_SCALARS = frozenset({str, bool, type(None)})


def canonical_json(data: Mapping[str, Any]) -> str:
    """Serialise ``data`` canonically: sorted keys, compact, UTF-8 text, no NaN or Infinity."""
    return _CANONICAL.encode(data)


def _orjson_exact(value: Any) -> bool:
    """Tell whether orjson would write ``value`` exactly as ``canonical_json`` does."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            kind = type(item)
            if kind in _ORJSON_SCALARS:
                continue
            if kind is int:
                if item not in _ORJSON_INT_RANGE:
                    return False
            elif not _orjson_exact(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_orjson_exact(item) for item in value)
    if kind is int:
        return value in _ORJSON_INT_RANGE
    return kind in _ORJSON_SCALARS


def content_checksum(data: Mapping[str, Any]) -> str:
    """Return the 32-hex-digit BLAKE2b-128 digest of ``data``'s canonical JSON."""
    return hashlib.blake2b(_canonical_bytes(data), digest_size=16).hexdigest()


def _canonical_bytes(data: Mapping[str, Any]) -> bytes:
    """Return ``canonical_json(data)`` as UTF-8, written by orjson whenever it writes the same."""
    if _orjson_exact(data):
        try:
            return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an unpaired surrogate: let json say what it says about it
            pass
    return canonical_json(data).encode("utf-8")

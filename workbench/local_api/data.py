"""A deterministic JSONPlaceholder data set at any scale, computed record by record on demand.

Record ``i`` of a resource comes from its own generator seeded by ``(seed, resource, i)``, so
reading a page costs only that page and never the whole resource. Children are laid out in
id order under their parents (posts 1-10 belong to user 1, posts 11-20 to user 2, ...), which
turns parent-key filters into id ranges instead of scans.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from itertools import chain
from random import Random

from workbench.errors import ConfigError
from workbench.local_api.checks import is_finite_number
from workbench.local_api.records import SPECS, Record, ResourceSpec

__all__ = ["BASE_USERS", "RESOURCES", "Dataset", "Filters", "Record", "check_scale", "parse_id"]

#: JSONPlaceholder has 10 users; every other count follows from the per-parent densities.
BASE_USERS = 10
RESOURCES: tuple[str, ...] = tuple(SPECS)

#: Field (dotted for nested ones, like ``address.city``) -> accepted values (any may match).
Filters = Mapping[str, str | Sequence[str]]


class Dataset:
    """JSONPlaceholder's six resources, ``scale`` times as many, generated lazily from ``seed``.

    Only the user count is scaled (``round(10 * scale)``, at least one); every child resource
    keeps the real densities, so at scale 1 the counts are exactly JSONPlaceholder's and every
    child's parent exists at any scale.
    """

    def __init__(self, *, seed: int = 0, scale: float = 1.0) -> None:
        check_scale(scale)
        self.seed = seed
        self.scale = scale
        self._counts = {name: self._compute_count(name, scale) for name in RESOURCES}

    def __repr__(self) -> str:
        return f"Dataset(seed={self.seed!r}, scale={self.scale!r})"

    @property
    def resources(self) -> tuple[str, ...]:
        """Return the resource names, in JSONPlaceholder's order."""
        return RESOURCES

    def count(self, resource: str) -> int:
        """Return how many records ``resource`` has."""
        return self._counts[_spec(resource).name]

    def get(self, resource: str, record_id: int) -> Record | None:
        """Return record ``record_id`` (1-based) of ``resource``, or None when out of range."""
        spec = _spec(resource)
        if not 1 <= record_id <= self._counts[resource]:
            return None
        parent_id = (record_id - 1) // spec.per_parent + 1
        return spec.build(Random(f"{self.seed}:{resource}:{record_id}"), record_id, parent_id)

    def records(self, resource: str, ids: Iterable[int]) -> Iterator[Record]:
        """Yield the records with the given ids, in that order, skipping ids out of range."""
        for record_id in ids:
            record = self.get(resource, record_id)
            if record is not None:
                yield record

    def slice(self, resource: str, start: int, end: int) -> list[Record]:
        """Return records at 0-based positions ``start:end``, with Python's slice semantics."""
        return list(self.records(resource, self.all_ids(resource)[start:end]))

    def all_ids(self, resource: str) -> range:
        """Return every id of ``resource``."""
        return range(1, self.count(resource) + 1)

    def parent_key(self, parent: str, child: str) -> str | None:
        """Return the field linking ``child`` records to ``parent`` (``userId``), or None."""
        spec = _spec(child)
        return spec.parent_key if spec.parent == parent else None

    def filter(self, resource: str, filters: Filters) -> Sequence[int]:
        """Return the ids, ascending, of records whose fields equal one of each filter's values.

        Values compare as json-server compares them, as strings (``true``, ``3``). ``id`` and
        the parent key are answered arithmetically; other fields by scanning what is left.
        """
        spec = _spec(resource)
        ids: Sequence[int] = self.all_ids(resource)
        scanned: dict[str, tuple[str, ...]] = {}
        for field, raw in filters.items():
            values = (raw,) if isinstance(raw, str) else tuple(raw)
            step = 1 if field == "id" else spec.per_parent if field == spec.parent_key else 0
            if step:
                ids = _intersect(ids, _id_ranges(values, step, self.count(resource)))
            else:
                scanned[field] = values
        if not scanned:
            return ids
        if not all(field in _leaf_fields(resource) for field in scanned):
            return ()
        return [i for i in ids if _matches(self.get(resource, i), scanned)]

    @staticmethod
    def _compute_count(resource: str, scale: float) -> int:
        spec = _spec(resource)
        if spec.parent is None:
            return max(1, round(BASE_USERS * scale))
        return Dataset._compute_count(spec.parent, scale) * spec.per_parent


def check_scale(scale: object, label: str = "scale") -> None:
    """Raise ConfigError, naming ``label``, unless ``scale`` is a finite number above 0."""
    if not (is_finite_number(scale) and scale > 0):
        raise ConfigError(f"{label} {scale!r}: expected a finite number greater than 0")


def parse_id(text: str) -> int | None:
    """Return the id ``text`` spells exactly as JSON would (``"3"``, not ``"03"``), else None."""
    if text.isascii() and text.isdigit() and text == str(int(text)) and int(text) >= 1:
        return int(text)
    return None


def _spec(resource: str) -> ResourceSpec:
    try:
        return SPECS[resource]
    except KeyError:
        raise KeyError(f"unknown resource {resource!r}; expected one of {RESOURCES}") from None


def _id_ranges(values: Iterable[str], step: int, last_id: int) -> Sequence[int]:
    """Ids whose ``(id - 1) // step + 1`` is one of ``values``: one range per parent."""
    parents = sorted({p for p in map(parse_id, values) if p is not None})
    ranges = [range((p - 1) * step + 1, min(p * step, last_id) + 1) for p in parents]
    if len(ranges) == 1:
        return ranges[0]
    return list(chain.from_iterable(ranges))


def _intersect(a: Sequence[int], b: Sequence[int]) -> Sequence[int]:
    """Intersect two ascending id sequences, staying a range when both are."""
    if isinstance(a, range) and isinstance(b, range):
        start = max(a.start, b.start)
        return range(start, max(start, min(a.stop, b.stop)))
    small, big = sorted((a, b), key=len)
    members = big if isinstance(big, range) else set(big)
    return [i for i in small if i in members]


@cache
def _leaf_fields(resource: str) -> frozenset[str]:
    """Dotted paths of a resource's scalar fields (the same for every record)."""
    sample = _spec(resource).build(Random(0), 1, 1)

    def walk(record: Mapping[str, object], prefix: str) -> Iterator[str]:
        for key, value in record.items():
            if isinstance(value, Mapping):
                yield from walk(value, f"{prefix}{key}.")
            else:
                yield prefix + key

    return frozenset(walk(sample, ""))


def _matches(record: Record | None, filters: Mapping[str, tuple[str, ...]]) -> bool:
    if record is None:
        return False
    for path, values in filters.items():
        value: object = record
        for key in path.split("."):
            value = value[key]  # type: ignore[index]  # the path is a known leaf
        if _as_text(value) not in values:
            return False
    return True


def _as_text(value: object) -> str:
    """Render a field the way JavaScript's ``toString`` does, which json-server compares."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

"""Vectorised processing: a page's records cleaned, validated and enriched a column at a time.

``PandasProcessor`` is a ``Processor`` whose ``process_many`` takes a page or a batch whole:

1. the records that are plain dicts are grouped by their keys (a page's usually share them);
   each group becomes one column per field, nested objects flattened into their fields' columns;
2. the exact type of every value is checked a column at a time (``columns.kinds``) against
   the schema (``int``, ``str``, ``bool``, a positive ``id``; any JSON scalar in other fields),
   and texts longer than ``MAX_TEXT`` are found;
3. every text of the group is cleaned at once: one scan of the joined texts finds those the
   rules could change and pandas string operations, regexes equal to the rules, clean them;
4. the enrichment steps that have a column form (``WordCounts``, ``NormaliseEmail``) run
   on whole columns.

Not vectorised: rebuilding each record's dict from its row; its checksum (BLAKE2b of its
canonical JSON, a hash per record by nature); and any step without a column form (a custom
step, ``BurnCpu``), which ``Processor.finish`` runs record by record after the last one that
has one.

A record the columns cannot vouch for goes through ``Processor.process`` instead, so every
reject and its reason are the per-record processor's own, word for word: anything but a plain
dict, keys that cleaning would change, a group missing a required field, a value of a type
not checked here (lists, a float where an int is required, NaN, subclasses, ...), a nested
object of a shape other than its column's or deeper than ``MAX_NESTING``, an over-long text,
and every record failing a check. ``tests/processing/test_vectorised.py`` holds the two
processors to identical batches, and a single ``process`` call is the per-record path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import chain, takewhile
from typing import Any

import numpy as np
import pandas as pd

from workbench.processing import columns
from workbench.processing.processor import (
    ProcessedBatch,
    ProcessedRecord,
    Processor,
    ProcessResult,
    Reject,
)
from workbench.processing.schemas import Fields
from workbench.processing.steps import MAX_TEXT, NormaliseEmail, Step, WordCounts, content_checksum

__all__ = ["MAX_NESTING", "PandasProcessor"]

#: Objects nested deeper than this are left to the per-record path (users' geo is at 2).
MAX_NESTING = 8
_ANY_SCALAR = frozenset(columns.KINDS)
# Per column, the kinds a value may have for its row to be vouched for (extra fields: None).
_ALLOWED = {
    int: frozenset({int}),
    str: frozenset({str}),
    bool: frozenset({bool}),
    None: _ANY_SCALAR,
}
_STR, _INT, _FLOAT = (columns.KINDS.index(kind) for kind in (str, int, float))
# An enrichment value meaning "leave the record as it is": the row had no such text.
_UNSET: Any = object()


def _plain(keys: Iterable[object]) -> bool:
    """Tell whether cleaning leaves these keys as they are (ASCII text without NUL)."""
    return all(type(key) is str and key.isascii() and "\x00" not in key for key in keys)


class _Level:
    """One object level of a group: its keys, each a leaf column's number or a nested level."""

    __slots__ = ("children", "keys")

    def __init__(self, keys: tuple[str, ...], children: list[int | _Level]) -> None:
        self.keys, self.children = keys, children

    def build(self, leaves: list[list[Any]], rows: int) -> list[list[Any]]:
        """Return this level's columns, each nested level's as fresh dicts, from the leaves."""
        built = []
        for child in self.children:
            if isinstance(child, int):
                built.append(leaves[child])
            else:
                inner = child.build(leaves, rows)
                if not inner:  # an empty object: no columns to zip, one {} a row all the same
                    built.append([{} for _ in range(rows)])
                    continue
                keys = child.keys
                built.append(
                    [dict(zip(keys, values, strict=True)) for values in zip(*inner, strict=True)]
                )
        return built


class _Group:
    """The records of one key set as columns: their leaves, what each may hold, who passes."""

    def __init__(self, rows: list[dict[str, Any]], keys: tuple[str, ...], fields: Fields) -> None:
        self.size = len(rows)
        self.passes = np.ones(self.size, dtype=bool)
        self.leaves: list[list[Any]] = []
        self.allowed: list[frozenset[type]] = []
        self.id_leaf = 0
        self.root = self._level([[row[key] for row in rows] for key in keys], keys, fields, 0)

    def _level(
        self, values: list[list[Any]], keys: tuple[str, ...], fields: Fields, depth: int
    ) -> _Level:
        """Flatten one object level: a leaf per scalar field, a nested level per object field."""
        kinds = dict(fields)
        children: list[int | _Level] = []
        for key, column in zip(keys, values, strict=True):
            kind = kinds.get(key)
            if isinstance(kind, tuple) or (kind is None and self._mostly_objects(column)):
                children.append(self._nested(column, kind or (), depth + 1))
            else:
                if depth == 0 and key == "id":
                    self.id_leaf = len(self.leaves)
                children.append(len(self.leaves))
                self.leaves.append(column)
                self.allowed.append(_ALLOWED[kind])  # type: ignore[index]
        return _Level(keys, children)

    def _mostly_objects(self, column: list[Any]) -> bool:
        """Tell whether most of an extra field's values are objects: then it is flattened."""
        return 2 * sum(type(value) is dict for value in column) > self.size

    def _nested(self, column: list[Any], fields: Fields, depth: int) -> _Level:
        """Flatten an object column: rows holding an object of its commonest shape pass."""
        shapes = [tuple(value) if type(value) is dict else None for value in column]
        common = Counter(shape for shape in shapes if shape is not None).most_common(1)
        keys: tuple[str, ...] = common[0][0] if common else ()
        fits = np.fromiter((shape == keys for shape in shapes), dtype=bool, count=self.size)
        if depth > MAX_NESTING or not _plain(keys) or any(name not in keys for name, _ in fields):
            fits[:] = False
        self.passes &= fits
        blank = dict.fromkeys(keys)
        rows = [value if fit else blank for value, fit in zip(column, fits, strict=True)]
        return self._level([[row[key] for row in rows] for key in keys], keys, fields, depth)

    def check_and_clean(self) -> np.ndarray:
        """Check every leaf's values, clean the texts of rows that pass; return their indices."""
        size, cells = self.size, np.fromiter(chain.from_iterable(self.leaves), object)
        kinds = columns.kinds(cells)
        allowed = np.array([[k in a for k in columns.KINDS] + [False] for a in self.allowed])
        leaf_of = np.repeat(np.arange(len(self.leaves)), size)
        self.passes &= allowed[leaf_of, kinds].reshape(-1, size).all(axis=0)
        ids = np.arange(self.id_leaf * size, (self.id_leaf + 1) * size)
        self._fail(ids[kinds[ids] == _INT], lambda values: values < 1, cells)
        self._fail(np.flatnonzero(kinds == _FLOAT), lambda v: ~np.isfinite(v.astype(float)), cells)
        texts = np.flatnonzero(kinds == _STR)
        self._fail(texts, lambda v: columns.lengths(v) > MAX_TEXT, cells)
        texts = texts[self.passes[texts % size]]
        dirty = texts[columns.needs_cleaning(cells[texts].tolist())]
        if len(dirty):
            cells[dirty] = columns.clean_texts(pd.Series(cells[dirty], dtype=object)).to_numpy()
        kept = np.flatnonzero(self.passes)
        self.leaves = [leaf.tolist() for leaf in cells.reshape(-1, size)[:, kept]]
        return kept

    def _fail(self, where: np.ndarray, failing: Any, cells: np.ndarray) -> None:
        """Fail the rows of the cells at ``where`` whose values ``failing`` marks."""
        if len(where):
            self.passes[where[failing(cells[where])] % self.size] = False


class _Enrichment:
    """Enrichment as columns: the assignments each step makes, in order, row by row."""

    def __init__(self, clean: dict[str, list[Any]], rows: int) -> None:
        self.clean, self.rows = clean, rows
        self.assigned: list[tuple[str, list[Any]]] = []

    def texts(self, name: str) -> tuple[list[int], list[str]]:
        """Return the rows where ``name`` holds a text now, and those texts."""
        values = self.clean.get(name, [_UNSET] * self.rows)
        for target, assigned in self.assigned:
            if target == name:
                pairs = zip(values, assigned, strict=True)
                values = [old if new is _UNSET else new for old, new in pairs]
        where = [row for row, value in enumerate(values) if type(value) is str]
        return where, [values[row] for row in where]

    def assign(self, name: str, where: list[int], values: list[Any]) -> None:
        """Set ``name`` to ``values`` in the rows at ``where``; the others stay as they are."""
        if len(where) == self.rows:
            self.assigned.append((name, values))
            return
        column = [_UNSET] * self.rows
        for row, value in zip(where, values, strict=True):
            column[row] = value
        self.assigned.append((name, column))

    def word_counts(self, step: WordCounts) -> None:
        """``WordCounts``: ``<field>_words`` for each field holding a text."""
        if any(f"{field}_words" in step.fields for field in step.fields):
            for field in step.fields:  # a count is read as a later field: one field at a time
                self._count((field,))
        else:
            self._count(step.fields)

    def _count(self, fields: tuple[str, ...]) -> None:
        """Count the words of every field's texts in one column operation."""
        found = [self.texts(field) for field in fields]
        texts = [text for _, field_texts in found for text in field_texts]
        if not texts:
            return
        counts = columns.word_counts(pd.Series(texts, dtype=object)).tolist()
        start = 0
        for field, (where, field_texts) in zip(fields, found, strict=True):
            if where:
                end = start + len(field_texts)
                self.assign(f"{field}_words", where, counts[start:end])
                start = end

    def emails(self, step: NormaliseEmail) -> None:
        """``NormaliseEmail``: the lowercased address and ``<field>_domain``."""
        where, texts = self.texts(step.field)
        if where:
            lowered, domains = columns.emails(pd.Series(texts, dtype=object))
            self.assign(step.field, where, lowered.tolist())
            self.assign(f"{step.field}_domain", where, domains.tolist())


_COLUMN_STEPS = {WordCounts: _Enrichment.word_counts, NormaliseEmail: _Enrichment.emails}


class PandasProcessor(Processor):
    """A ``Processor`` that processes a page or batch a column at a time with pandas."""

    __slots__ = ("_column_steps", "_tail")

    def __init__(
        self, resource: str, steps: Iterable[Step] | None = None, cpu_cost: int = 0
    ) -> None:
        super().__init__(resource, steps, cpu_cost)
        self._column_steps = tuple(takewhile(lambda step: type(step) in _COLUMN_STEPS, self.steps))
        rest = self.steps[len(self._column_steps) :]
        # From the first step without a column form on, every step runs per record, in order.
        self._tail = Processor(resource, rest, cpu_cost) if rest or cpu_cost else None

    def process_many(self, raws: Iterable[object]) -> ProcessedBatch:
        """Process every raw record, keeping accepted records and rejects in input order."""
        raws = raws if isinstance(raws, list) else list(raws)
        results: list[ProcessResult | None] = [None] * len(raws)
        groups: dict[tuple[Any, ...], list[int]] = {}
        for index, raw in enumerate(raws):
            if type(raw) is dict:
                groups.setdefault(tuple(raw), []).append(index)
        required = {name for name, _ in self.schema.fields}
        for keys, indices in groups.items():
            if _plain(keys) and required.issubset(keys):
                self._process_group(keys, [raws[i] for i in indices], indices, results)
        records: list[ProcessedRecord] = []
        rejects: list[Reject] = []
        for raw, result in zip(raws, results, strict=True):
            if result is None:  # what the columns did not vouch for
                result = Processor.process(self, raw)
            if type(result) is ProcessedRecord:
                records.append(result)
            else:
                rejects.append(result)  # type: ignore[arg-type]
        return ProcessedBatch(self.resource, records, rejects)

    def _process_group(
        self, keys: tuple[str, ...], rows: list[Any], indices: list[int], results: list[Any]
    ) -> None:
        """Process one group's records as columns, setting the result of each that passes."""
        group = _Group(rows, keys, self.schema.fields)
        kept = group.check_and_clean()
        if not len(kept):
            return
        clean = dict(zip(keys, group.root.build(group.leaves, len(kept)), strict=True))
        enrichment = _Enrichment(clean, len(kept))
        for step in self._column_steps:
            _COLUMN_STEPS[type(step)](enrichment, step)  # type: ignore[operator]
        names = [name for name, _ in enrichment.assigned]
        assigned = [column for _, column in enrichment.assigned]
        unset = any(_UNSET in column for column in assigned)
        extras = zip(*assigned, strict=True) if assigned else ((),) * len(kept)
        resource, tail = self.resource, self._tail
        for index, values, extra in zip(
            kept.tolist(), zip(*clean.values(), strict=True), extras, strict=True
        ):
            data = dict(zip(keys, values, strict=True))
            checksum = content_checksum(data)
            if unset:
                data.update((k, v) for k, v in zip(names, extra, strict=True) if v is not _UNSET)
            else:
                data.update(zip(names, extra, strict=True))
            raw = rows[index]
            results[indices[index]] = (
                tail.finish(raw, data, checksum)
                if tail is not None
                else ProcessedRecord(resource, str(data["id"]), data, checksum)
            )

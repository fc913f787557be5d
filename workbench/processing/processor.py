"""Turn raw source records into clean, valid, enriched records, or rejects that say why.

Every record goes through the same pipeline:

1. ``CleanStrings`` builds a cleaned copy (the caller's data is never modified);
2. ``Validate`` checks it against the resource's schema;
3. the content checksum is taken of the cleaned, validated source record;
4. the enrichment steps run (``DEFAULT_ENRICHMENT`` unless others are given);
5. ``BurnCpu`` runs last when ``cpu_cost`` is above zero.

Steps 1 to 3 are fixed, so a checksum depends only on the source data, never on which
enrichment a processor was built with. Nothing a record does raises out of ``process``: a
non-object, a schema break or an exception inside any step becomes a ``Reject``, so one bad
record never costs its batch. Processors, records and rejects all pickle, for process pools,
and a processor keeps no per-record state, so threads and tasks may share one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError, ValidationError
from workbench.processing.schemas import Schema, schema_for
from workbench.processing.steps import (
    DEFAULT_ENRICHMENT,
    BurnCpu,
    CleanStrings,
    Step,
    Validate,
    clean_text,
    content_checksum,
    step_name,
)

__all__ = [
    "RAW_TEXT_LIMIT",
    "ProcessResult",
    "ProcessedBatch",
    "ProcessedRecord",
    "Processor",
    "Reject",
    "Unparsed",
]

#: At most this many characters of a rejected record's text are kept.
RAW_TEXT_LIMIT = 10_000
_EXTERNAL_ID_LIMIT = 200
_TRUNCATED = "…"


@dataclass(frozen=True, slots=True)
class ProcessedRecord:
    """A record that passed: its cleaned and enriched data and its source checksum.

    ``row`` is the record already encoded as its ``COPY`` line, when a worker process did
    that work (the writer then only joins lines); ``data`` may then be left empty, since
    the line is what is written.
    """

    resource: str
    external_id: str
    data: dict[str, Any]
    checksum: str
    row: bytes | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that failed: its text as received (ASCII-escaped, truncated) and why."""

    resource: str
    external_id: str | None
    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class Unparsed:
    """A raw item its source could not parse (invalid JSON, invalid UTF-8), and why.

    Sources hand it on instead of failing the whole page; the processor rejects it.
    """

    text: str
    reason: str


#: What ``Processor.process`` returns for one record.
ProcessResult = ProcessedRecord | Reject


@dataclass(frozen=True, slots=True)
class ProcessedBatch:
    """The outcome of processing many records: accepted ones and rejects, in input order."""

    resource: str
    records: list[ProcessedRecord]
    rejects: list[Reject]


def _json_type(value: object) -> str:
    """Name the JSON type of ``value`` (``array``, ``string``, ...) or else its Python type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (list, tuple)):
        return f"array ({type(value).__name__})"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _raw_text(raw: object) -> str:
    """Render a raw record as ASCII-only text (NULs and odd characters stay visible)."""
    try:
        text = json.dumps(raw, ensure_ascii=True, default=ascii)
    except (TypeError, ValueError, RecursionError):
        text = ascii(raw)
    return _truncated(text)


def _truncated(text: str) -> str:
    """Cut a reject's text to ``RAW_TEXT_LIMIT`` characters, marking the cut."""
    if len(text) > RAW_TEXT_LIMIT:
        text = text[: RAW_TEXT_LIMIT - len(_TRUNCATED)] + _TRUNCATED
    return text


def _raw_external_id(raw: Mapping[Any, Any]) -> str | None:
    """Read the record's ``id`` as text if it looks like one, for a reject; else ``None``."""
    try:
        value = raw.get("id")
    except Exception:  # a hostile Mapping must not turn a reject into a crash
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return clean_text(value)[:_EXTERNAL_ID_LIMIT] or None
    return None


def _checksum(data: dict[str, Any]) -> str:
    """Checksum ``data``, turning values JSON cannot hold (NaN, sets, ...) into a schema break."""
    try:
        return content_checksum(data)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"not storable as JSON: {exc}") from exc


class Processor:
    """Clean, validate, checksum and enrich the records of one resource."""

    __slots__ = ("_enrichment", "_validation", "cpu_cost", "resource", "schema", "steps")

    def __init__(
        self, resource: str, steps: Iterable[Step] | None = None, cpu_cost: int = 0
    ) -> None:
        if not isinstance(resource, str) or not resource:
            raise ConfigError(f"resource must be a non-empty string, got {resource!r}")
        self.resource = resource
        self.schema: Schema = schema_for(resource)
        self.steps: tuple[Step, ...] = DEFAULT_ENRICHMENT if steps is None else tuple(steps)
        for step in self.steps:
            if not callable(step):
                raise ConfigError(f"processing step {step!r} is not callable")
        burn = BurnCpu(cpu_cost)  # validates cpu_cost even when it is zero
        self.cpu_cost = cpu_cost
        self._validation: tuple[Step, ...] = (CleanStrings(), Validate(self.schema))
        self._enrichment = (*self.steps, burn) if cpu_cost else self.steps

    def process(self, raw: object) -> ProcessResult:
        """Process one raw record into a ``ProcessedRecord`` or a ``Reject``; never raises."""
        if type(raw) is not dict and not isinstance(raw, Mapping):  # the ABC check is slow
            if type(raw) is Unparsed:
                return Reject(self.resource, None, _truncated(raw.text), raw.reason)
            return self._reject(raw, f"not a JSON object: {_json_type(raw)}")
        stage: object = None
        data: Any = raw
        try:
            for stage in self._validation:
                data = stage(data)
            stage = "checksum"
            checksum = _checksum(data)
        except Exception as exc:
            return self._failed(raw, stage, exc)
        return self.finish(raw, data, checksum)

    def finish(self, raw: object, data: dict[str, Any], checksum: str) -> ProcessResult:
        """Run the enrichment on ``data``, already cleaned, validated and checksummed from ``raw``.

        The second half of ``process``, for processors that do the first half their own way
        (``workbench.processing.vectorised``); ``data`` is enriched in place.
        """
        stage: object = None
        try:
            for stage in self._enrichment:
                data = stage(data)  # type: ignore[operator]
                if type(data) is not dict:
                    returned = type(data).__name__
                    return self._reject(
                        raw, f"step {step_name(stage)!r} returned {returned}, not dict"
                    )
        except Exception as exc:
            return self._failed(raw, stage, exc)
        return ProcessedRecord(self.resource, str(data["id"]), data, checksum)

    def process_many(self, raws: Iterable[object]) -> ProcessedBatch:
        """Process every raw record, keeping accepted records and rejects in input order."""
        records: list[ProcessedRecord] = []
        rejects: list[Reject] = []
        for raw in raws:
            result = self.process(raw)
            if type(result) is ProcessedRecord:
                records.append(result)
            else:
                rejects.append(result)  # type: ignore[arg-type]
        return ProcessedBatch(self.resource, records, rejects)

    def _failed(self, raw: object, stage: object, exc: Exception) -> Reject:
        """Reject ``raw`` for what ``stage`` raised: a schema break says its own message."""
        if isinstance(exc, ValidationError):
            return self._reject(raw, str(exc))
        return self._reject(raw, f"step {step_name(stage)!r} failed: {type(exc).__name__}: {exc}")

    def _reject(self, raw: object, reason: str) -> Reject:
        """Build the reject for ``raw``, with its id when it has a usable one."""
        external_id = _raw_external_id(raw) if isinstance(raw, Mapping) else None
        return Reject(self.resource, external_id, _raw_text(raw), reason)

    def __reduce__(self) -> tuple[type[Processor], tuple[str, tuple[Step, ...], int]]:
        # Rebuild from the constructor's arguments: the schema and pipeline are derived.
        return (type(self), (self.resource, self.steps, self.cpu_cost))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__reduce__() == other.__reduce__()

    def __hash__(self) -> int:
        return hash(self.__reduce__())

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.resource!r}, steps={self.steps!r}, cpu_cost={self.cpu_cost!r})"

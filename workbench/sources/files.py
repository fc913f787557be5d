"""Files as a source: CSV and JSON Lines, read in chunks so a large file never sits in memory.

Planning scans the file once and keeps only byte offsets (one pair per ``page_size`` records);
each unit then reads its own byte range, so any worker can read any chunk, in any order. CSV
fields quoted across line breaks are handled (a record ends where its quotes balance); CSV
cells are text, so the resource's schema supplies the types (``userId`` an int, ``completed`` a
bool; a zip code stays text) and dotted column names (``address.geo.lat``) become nested
objects: a CSV export of JSONPlaceholder reads back exactly as the API serves it. A cell that
does not fit its type stays text, and the processor rejects the record with the reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, SourceError
from workbench.processing import Unparsed
from workbench.processing.schemas import Fields, schema_for
from workbench.sources.source import Payload, RawPage, Source, WorkUnit

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_INT = re.compile(r"-?(0|[1-9][0-9]*)\Z")


def file_format(path: Path) -> str:
    """Return ``csv`` or ``jsonl`` from a file's suffix, or raise ``ConfigError``."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ConfigError(f"{path}: expected a file ending in {known}") from None


def record_offsets(path: Path, fmt: str) -> Iterator[tuple[int, int]]:
    """Yield the byte range of every record (a CSV's header excluded), reading line by line."""
    with path.open("rb") as handle:
        if fmt == "csv":
            handle.readline()
        start = handle.tell()
        quotes = 0
        for line in iter(handle.readline, b""):
            quotes += line.count(b'"')
            if fmt == "csv" and quotes % 2:
                continue  # inside a quoted field that spans lines: the record goes on
            end = handle.tell()
            if line.strip():
                yield start, end
            start, quotes = end, 0


def column_types(resource: str) -> dict[str, type]:
    """Return the schema's type of every (dotted) column of a resource's CSV."""
    types: dict[str, type] = {}

    def walk(fields: Fields, prefix: str) -> None:
        for name, kind in fields:
            if isinstance(kind, tuple):
                walk(kind, f"{prefix}{name}.")
            else:
                types[f"{prefix}{name}"] = kind

    walk(schema_for(resource).fields, "")
    return types


def typed(value: str, kind: type | None) -> Any:
    """Convert a CSV cell to its schema type when it fits (int, bool); otherwise keep the text."""
    if kind is int and _INT.match(value):
        return int(value)
    if kind is bool and value in ("true", "false"):
        return value == "true"
    return value


def nest(row: Mapping[str, str], types: Mapping[str, type]) -> dict[str, Any]:
    """Turn dotted column names into nested objects: ``{"a.b": "x"}`` -> ``{"a": {"b": "x"}}``."""
    record: dict[str, Any] = {}
    for column, value in row.items():
        *parents, leaf = column.split(".")
        target = record
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = typed(value, types.get(column))
    return record


class FileSource(Source):
    """Records from local CSV or JSON Lines files, one file per resource."""

    cacheable = False

    def __init__(
        self, files: Mapping[str, str | Path], *, page_size: int = 1000, name: str = "files"
    ) -> None:
        self.files = {resource: Path(path) for resource, path in files.items()}
        self.formats = {resource: file_format(path) for resource, path in self.files.items()}
        self.page_size = page_size
        self.name = name

    def __repr__(self) -> str:
        files = {resource: str(path) for resource, path in self.files.items()}
        return f"FileSource({files}, page_size={self.page_size})"

    def _path(self, resource: str) -> Path:
        """Return the file of a resource, or raise ``ConfigError`` for an unknown one."""
        if resource not in self.files:
            raise ConfigError(f"no file given for resource {resource!r}")
        return self.files[resource]

    def first_units(self, resource: str, ahead: int = 1) -> Iterator[WorkUnit]:
        """Yield one unit per ``page_size`` records, each a byte range of the file (all known)."""
        path = self._path(resource)
        page, first, last, count = 0, None, 0, 0
        for start, end in record_offsets(path, self.formats[resource]):
            first = start if first is None else first
            last, count = end, count + 1
            if count == self.page_size:
                page += 1
                yield WorkUnit(resource, page, f"{path}#{first}-{last}", first, last)
                first, count = None, 0
        if first is not None:
            yield WorkUnit(resource, page + 1, f"{path}#{first}-{last}", first, last)

    def fetch(self, unit: WorkUnit, session: Any = None) -> Payload:
        """Read the unit's byte range (a CSV's header line first)."""
        path = self._path(unit.resource)
        try:
            with path.open("rb") as handle:
                header = handle.readline() if self.formats[unit.resource] == "csv" else b""
                handle.seek(unit.start)
                return Payload(header + handle.read(unit.stop - unit.start))
        except OSError as exc:
            raise SourceError(f"cannot read {unit.ref}: {exc.strerror or exc}") from exc

    def parse(self, unit: WorkUnit, payload: Payload) -> RawPage:
        """Decode the chunk; a line that is not JSON goes on as ``Unparsed``, to be rejected."""
        text = payload.body.decode("utf-8", errors="replace")
        if self.formats[unit.resource] == "csv":
            types = column_types(unit.resource)
            rows = csv.DictReader(io.StringIO(text))
            records: list[Any] = [nest(row, types) for row in rows]
        else:
            records = [json_or_text(line) for line in text.splitlines() if line.strip()]
        return RawPage(unit, records)


def json_or_text(line: str) -> Any:
    """Parse one JSON Lines record; keep an unparseable line, with why, for the processor."""
    try:
        return json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return Unparsed(line, f"invalid JSON: {reason}")

"""COPY's text format: escaping values and encoding whole batches of rows as one buffer.

Building the buffer is most of a COPY's cost on the Python side, so ``ingested_data_rows``
does as little per record as the format allows: the record's data is serialised by orjson
straight to UTF-8 bytes, and JSON already escapes every tab, newline and carriage return
inside strings, so a backslash is the only byte left for COPY to escape in it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from workbench.errors import StorageDataError
from workbench.processing import ProcessedRecord

__all__ = [
    "copy_field",
    "copy_payload",
    "data_json",
    "data_json_bytes",
    "encode_records",
    "ingested_data_rows",
]

#: The characters COPY's text format needs escaped in a field.
_SPECIAL = re.compile(r"[\\\t\n\r]")


def data_json_bytes(data: Mapping[str, Any]) -> bytes:
    """Serialise a record's data compactly as UTF-8 JSON (the bytes every strategy sends).

    orjson when it can; the standard library for what orjson refuses (keys that are not
    strings, integers beyond 64 bits), with the same result. Text that is not valid UTF-8
    (an unpaired surrogate) is a ``StorageDataError``.
    """
    try:
        return orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise StorageDataError(f"a record is not valid UTF-8 text ({exc})") from exc


def data_json(data: Mapping[str, Any]) -> str:
    """Serialise a record's data compactly as UTF-8 text, the form every strategy sends."""
    return data_json_bytes(data).decode("utf-8")


def copy_field(value: str | None) -> str:
    r"""Escape one value for COPY's text format: backslash, tab, newline, CR; None is ``\N``."""
    if value is None:
        return "\\N"
    # Backslash first, so the backslashes the other escapes add are not doubled.
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _utf8(text: str) -> bytes:
    """Encode text for the buffer; text that UTF-8 cannot carry refuses the batch."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # an unpaired surrogate the processor did not fix
        raise StorageDataError(f"a record is not valid UTF-8 text ({exc})") from exc


def copy_payload(rows: Iterable[Sequence[str | None]]) -> bytes:
    """Encode rows as one COPY text-format buffer in UTF-8, one line per row."""
    lines = ["\t".join([copy_field(value) for value in row]) for row in rows]
    lines.append("")  # so the join ends the last row with its newline too
    return _utf8("\n".join(lines))


def _field(text: str) -> bytes:
    """Encode one text value as a COPY field (most need no escaping: look before copying)."""
    return _utf8(copy_field(text) if _SPECIAL.search(text) else text)


def ingested_data_rows(
    records: Iterable[ProcessedRecord], source: str, run_id: str | None
) -> bytes:
    """Encode records as ``ingested_data`` rows in one COPY text-format buffer.

    The columns are ``source, resource, external_id, data, checksum, run_id``. A record
    encoded already (its ``row``) is joined as it is.
    """
    return b"".join(_lines(records, source, run_id))


def encode_records(
    records: Sequence[ProcessedRecord], source: str, run_id: str | None
) -> list[ProcessedRecord]:
    """Return the records as plain rows: each its ``COPY`` line, its data left empty.

    What a worker process sends back instead of the data (smaller to pickle, and the
    parent then only joins lines).
    """
    return [
        ProcessedRecord(record.resource, record.external_id, {}, record.checksum, line)
        for record, line in zip(records, _lines(records, source, run_id), strict=True)
    ]


def _lines(records: Iterable[ProcessedRecord], source: str, run_id: str | None) -> Iterator[bytes]:
    """Yield each record's ``COPY`` line (its ``row`` when it has one)."""
    head = _utf8(copy_field(source) + "\t")
    tail = _utf8("\t" + copy_field(run_id) + "\n")
    resources: dict[str, bytes] = {}
    for record in records:
        if record.row is not None:
            yield record.row
            continue
        resource = resources.get(record.resource)
        if resource is None:
            resource = resources[record.resource] = _field(record.resource)
        data = data_json_bytes(record.data)
        if b"\\" in data:
            data = data.replace(b"\\", b"\\\\")
        external_id, checksum = _field(record.external_id), _field(record.checksum)
        yield b"%s%s\t%s\t%s\t%s%s" % (head, resource, external_id, data, checksum, tail)

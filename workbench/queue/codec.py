"""What travels on the queue's streams, as JSON.

Never pickle: anyone who can write to the Redis could otherwise run code in every worker.

* a **task**: ``{"units": [[resource, page, ref, start, stop], ...]}``, the units of work it
  holds (one page, or a small range of pages);
* a **settled task**: its pages' ``UnitResult`` s, spans included;
* a **source spec**: enough to rebuild the source a job reads (an HTTP API or files) on any
  machine, e.g. ``{"kind": "http", "base_url": ..., "page_size": 100, ...}``.

Anything that does not decode raises ``TaskFormatError``: a poison task, which its worker
leaves unacknowledged until it is dead-lettered.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import ConfigError, TaskFormatError
from workbench.ingestion.report import PageSpan, UnitResult
from workbench.sources.files import FileSource
from workbench.sources.http_api import HttpApiSource
from workbench.sources.source import Source, WorkUnit

__all__ = [
    "decode_results",
    "decode_units",
    "encode_results",
    "encode_units",
    "source_from_spec",
    "source_spec",
]


def encode_units(units: Sequence[WorkUnit]) -> dict[str, str]:
    """Return the stream fields of a task holding ``units``."""
    rows = [[u.resource, u.page, u.ref, u.start, u.stop] for u in units]
    return {"units": json.dumps(rows, separators=(",", ":"))}


def decode_units(fields: Mapping[str, str]) -> list[WorkUnit]:
    """Return the units of a task's stream fields; anything else raises ``TaskFormatError``."""
    try:
        rows = json.loads(fields["units"])
        units = [WorkUnit(str(r), int(p), str(ref), int(a), int(b)) for r, p, ref, a, b in rows]
    except (KeyError, TypeError, ValueError) as exc:
        shown = json.dumps(dict(fields))[:200]
        raise TaskFormatError(f"task cannot be decoded ({type(exc).__name__}): {shown}") from exc
    if not units:
        raise TaskFormatError("task holds no units")
    return units


def encode_results(results: Sequence[UnitResult]) -> str:
    """Return a settled task's page results as JSON."""
    return json.dumps([dataclasses.asdict(result) for result in results], separators=(",", ":"))


def decode_results(text: str) -> list[UnitResult]:
    """Return the page results ``encode_results`` wrote (spans' lists back to tuples)."""
    results = []
    for data in json.loads(text):
        span = data.pop("span")
        if span is not None:
            fields: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in span.items()
            }
            span = PageSpan(**fields)
        results.append(UnitResult(**data, span=span))
    return results


def source_spec(source: Source) -> dict[str, Any] | None:
    """Return a JSON-ready description of ``source``, or None for a kind no spec describes."""
    if isinstance(source, HttpApiSource):
        return {
            "kind": "http",
            "base_url": source.base_url,
            "page_size": source.page_size,
            "timeout_s": source.timeout_s,
            "name": source.name,
        }
    if isinstance(source, FileSource):
        files = {resource: str(path) for resource, path in source.files.items()}
        return {"kind": "files", "files": files, "page_size": source.page_size, "name": source.name}
    return None


def source_from_spec(spec: Mapping[str, Any]) -> Source:
    """Rebuild the source ``source_spec`` described."""
    options = {key: value for key, value in spec.items() if key != "kind"}
    kind = spec.get("kind")
    try:
        if kind == "http":
            return HttpApiSource(options.pop("base_url"), **options)
        if kind == "files":
            return FileSource(options.pop("files"), **options)
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"bad source spec {dict(spec)}: {exc}") from exc
    raise ConfigError(f"unknown source kind {kind!r} in a job's spec")

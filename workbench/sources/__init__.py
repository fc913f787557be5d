"""Where ingestors read records from: the ``Source`` contract and its implementations.

A source splits a resource into units of work (pages, file chunks) and reads one unit at a
time, with sync and async twins. ``HttpApiSource`` reads a JSONPlaceholder-style API (the
real one, or ``workbench.local_api``); ``FileSource`` reads CSV and JSON Lines files;
``StreamSource`` (``workbench.sources.stream``, imported from there: it builds on the
ingestion pipeline) consumes records appended to a Redis stream, which
``workbench.sources.producer`` writes at a given rate.
"""

from __future__ import annotations

from workbench.sources.files import FileSource
from workbench.sources.http_api import HttpApiSource
from workbench.sources.source import Payload, RawPage, Source, WorkUnit

__all__ = ["FileSource", "HttpApiSource", "Payload", "RawPage", "Source", "WorkUnit"]

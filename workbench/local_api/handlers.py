"""The source server's routes: JSONPlaceholder's resources answered the way json-server does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from workbench.local_api import hostile
from workbench.local_api.body_cache import BodyCache
from workbench.local_api.data import Dataset, parse_id
from workbench.local_api.faults import OVERRIDE_PARAMS, FaultConfig, FaultInjector
from workbench.local_api.paging import PAGING_PARAMS, PagingError, Window, link_header
from workbench.local_api.stats import ServerStats

__all__ = [
    "BODIES",
    "DATASET",
    "FAULTS",
    "INJECTOR",
    "MALFORMED",
    "SERVED",
    "STATS",
    "data_query",
    "error_response",
    "fault_key",
    "routes",
]

DATASET = web.AppKey("dataset", Dataset)
BODIES = web.AppKey("bodies", BodyCache)
INJECTOR = web.AppKey("injector", FaultInjector)
STATS = web.AppKey("stats", ServerStats)
#: Set by the fault middleware for the request being handled: cut this answer off mid-JSON.
MALFORMED: ContextVar[bool] = ContextVar("workbench_source_malformed", default=False)
#: Set by the fault middleware: the faults in force for the request being handled.
FAULTS: ContextVar[FaultConfig | None] = ContextVar("workbench_source_faults", default=None)
#: The records a built answer holds: counted as served just before it is sent (``server``).
SERVED = web.ResponseKey("records_served", int)
#: Records encoded per write when a list is streamed; lists no longer than this go in one body.
CHUNK = 1000


def data_query(request: web.Request) -> MultiDictProxy[str]:
    """Return the query without the fault-override parameters (they are not filters)."""
    kept = [(k, v) for k, v in request.query.items() if k not in OVERRIDE_PARAMS]
    return MultiDictProxy(MultiDict(kept))


def fault_key(request: web.Request) -> str:
    """Return the path and decoded query, minus fault parameters, that faults are drawn for."""
    query = "&".join(f"{key}={value}" for key, value in data_query(request).items())
    return f"{request.path}?{query}" if query else request.path


def encode(value: Any) -> bytes:
    """Encode ``value`` as compact UTF-8 JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Return a JSON ``{"error": message}`` answer with ``status``."""
    return _json(encode({"error": message}), status, headers)


def _json(body: bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        body=body, status=status, headers=headers, content_type="application/json", charset="utf-8"
    )


def _send(
    request: web.Request, body: bytes, records: int, headers: Mapping[str, str]
) -> web.Response:
    """Answer 200 with ``body``, cut in half if a malformed answer was injected."""
    stats = request.app[STATS]
    if MALFORMED.get():
        stats.count_fault("malformed")
        # Any strict prefix of a JSON array or object is invalid JSON.
        return _json(body[: max(1, len(body) // 2)], headers=headers)
    response = _json(body, headers=headers)
    response[SERVED] = records
    return response


async def _send_records(
    request: web.Request, resource: str, ids: Sequence[int], headers: Mapping[str, str]
) -> web.StreamResponse:
    """Answer with the records ``ids`` as a JSON array, streamed when it is long."""
    dataset = request.app[DATASET]

    def array(start: int) -> bytes:
        # One dumps() call for a chunk's list gives the bytes of joining each record's.
        return encode(list(dataset.records(resource, ids[start : start + CHUNK])))

    if len(ids) <= CHUNK or MALFORMED.get():
        if isinstance(ids, range):  # a window of the unfiltered list: the same bytes every time
            key = (resource, ids.start, ids.stop, ids.step)
            body = request.app[BODIES].get_or_build(key, lambda: array(0))
        else:
            body = array(0)
        return _send(request, body, len(ids), headers)
    response = web.StreamResponse(headers=headers)
    response.content_type, response.charset = "application/json", "utf-8"
    await response.prepare(request)
    for start in range(0, len(ids), CHUNK):
        await response.write((b"[" if start == 0 else b",") + array(start)[1:-1])
        # Encoding is CPU work: let other clients in between chunks.
        await asyncio.sleep(0)
    await response.write(b"]")
    await response.write_eof()
    request.app[STATS].count_records(len(ids))
    return response


async def _list(
    request: web.Request, resource: str, scope: Mapping[str, str]
) -> web.StreamResponse:
    """Answer a list of ``resource`` narrowed by ``scope`` and the query's filters and paging."""
    query = data_query(request)
    unsupported = sorted({k for k in query if k.startswith("_") or k == "q"} - PAGING_PARAMS)
    if unsupported:
        return error_response(400, f"unsupported parameter {unsupported[0]!r}")
    try:
        window = Window.from_query(query)
    except PagingError as exc:
        return error_response(400, str(exc))
    filters = {key: query.getall(key) for key in query if key not in PAGING_PARAMS}
    ids = request.app[DATASET].filter(resource, {**filters, **scope})
    headers: dict[str, str] = {}
    faults = FAULTS.get() or FaultConfig()
    if window is not None:
        links = link_header(request.url, list(query.items()), window, len(ids))
        headers["X-Total-Count"] = str(len(ids))
        headers["Access-Control-Expose-Headers"] = "X-Total-Count, Link"
        if links:
            headers["Link"] = links
        for lie in set(faults.hostile) & set(hostile.HEADER_KINDS):
            hostile.lie(lie, headers, len(ids), str(request.url))
        ids = ids[window.start : window.stop]
        kind = _hostile_kind(faults, window)
        if kind is not None:
            records = list(request.app[DATASET].records(resource, ids))
            request.app[STATS].count_fault("hostile")
            response, served = await hostile.apply(kind, request, records, headers, faults)
            request.app[STATS].count_records(served)
            return response
    return await _send_records(request, resource, ids, headers)


def _hostile_kind(faults: FaultConfig, window: Window) -> str | None:
    """Return the hostile kind this page of a paged list gets, if any."""
    if window.style != "page" or not window.size:
        return None
    kinds = [kind for kind in faults.hostile if kind not in hostile.HEADER_KINDS]
    index = window.start // window.size + 1 - faults.hostile_page
    return kinds[index] if 0 <= index < len(kinds) else None


def _not_found() -> web.Response:
    """Answer 404 with ``{}``, as json-server does."""
    return _json(b"{}", status=404)


async def list_resource(request: web.Request) -> web.StreamResponse:
    """``GET /{resource}``: the list, filtered and paged."""
    resource = request.match_info["resource"]
    if resource not in request.app[DATASET].resources:
        return _not_found()
    return await _list(request, resource, {})


async def get_record(request: web.Request) -> web.StreamResponse:
    """``GET /{resource}/{id}``: one record, or 404 ``{}``."""
    dataset = request.app[DATASET]
    resource, record_id = request.match_info["resource"], parse_id(request.match_info["id"])
    record = None
    if resource in dataset.resources and record_id is not None:
        record = dataset.get(resource, record_id)
    if record is None:
        return _not_found()
    return _send(request, encode(record), 1, {})


async def list_children(request: web.Request) -> web.StreamResponse:
    """``GET /{parent}/{id}/{child}``: the children of one record, like ``/posts/1/comments``."""
    dataset = request.app[DATASET]
    parent, child = request.match_info["resource"], request.match_info["child"]
    key = dataset.parent_key(parent, child) if child in dataset.resources else None
    if key is None:
        return _not_found()
    return await _list(request, child, {key: request.match_info["id"]})


async def unknown_path(request: web.Request) -> web.StreamResponse:
    """Any other path: 404 ``{}``."""
    return _not_found()


async def health(request: web.Request) -> web.StreamResponse:
    """``GET /health``: ``{"status": "ok"}``, never faulted."""
    return _json(encode({"status": "ok"}))


async def show_stats(request: web.Request) -> web.StreamResponse:
    """``GET /stats``: the server's counters."""
    return _json(encode(request.app[STATS].snapshot()))


async def reset_stats(request: web.Request) -> web.StreamResponse:
    """``DELETE /stats`` or ``POST /stats/reset``: zero the counters and restart fault draws."""
    request.app[STATS].reset()
    request.app[INJECTOR].reset()
    return await show_stats(request)


def routes() -> list[web.RouteDef]:
    """Return every route, the fixed ones first so they win over the resource patterns."""
    return [
        web.get("/health", health),
        web.get("/stats", show_stats),
        web.delete("/stats", reset_stats),
        web.post("/stats/reset", reset_stats),
        web.get("/{resource}", list_resource),
        web.get("/{resource}/{id}", get_record),
        web.get("/{resource}/{id}/{child}", list_children),
        web.get("/{tail:.*}", unknown_path),
    ]

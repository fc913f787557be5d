"""Hostile answers: what a broken or malicious server sends, on the pages asked for.

A server configured with ``FaultConfig(hostile=("deep", "sql"), hostile_page=2)`` answers
page 2 of every paged list with the first kind, page 3 with the second, and so on; the
header kinds (``total_high``, ``total_low``, ``link_loop``) change every page's headers
instead. Each kind is what a client must survive without losing the other records:

* record kinds change one page's records: ``deep`` (one record nested 5,000 levels),
  ``invalid_utf8``, ``nul``, ``long_string`` (a 1,000,000-character body), ``unicode``
  (text from every plane), ``sql`` (SQL metacharacters in every text field), ``wrong_types``
  (a string ``userId``, a missing ``title``), ``duplicate_ids`` (page 1's ids again);
* answer kinds replace the page: ``huge`` (a body of ``huge_mb`` megabytes), ``html`` (an
  HTML error page sent as 200), ``not_array`` (a JSON object), ``redirect`` (a 302 to
  ``hostile_target``, another host), ``trickle`` (the body a few bytes at a time, slower
  than any client's deadline);
* header kinds lie about the size: ``X-Total-Count`` three times the truth, half of it, or
  missing with a ``Link`` whose ``last`` is page 1,000,000 and whose ``next`` loops to 1.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

__all__ = ["ANSWER_KINDS", "HEADER_KINDS", "HOSTILE_KINDS", "RECORD_KINDS", "apply", "lie"]

#: The deepest a "deep" record nests: far past any parser's or processor's limit.
DEEP_LEVELS = 5000
LONG_STRING = 1_000_000
SQL = "'; DROP TABLE ingested_data; -- \\\\N \\t $$ %s {0} \" \\\\ \u2019 /* */ NULL"
UNICODE = (
    "\u03a9 \U0001d518\U0001d52b \U0001f469\u200d\U0001f469\u200d\U0001f467 e\u0301"
    " \u202eRTL\u202c \u6f22\u5b57 \U0010fffd \u00a0end"
)

Records = list[dict[str, Any]]


def _deep(records: Records) -> bytes:
    """Nest one record ``DEEP_LEVELS`` levels deep, built as text (no recursion)."""
    nested = b'{"id": 999999, "v": ' + b"[" * DEEP_LEVELS + b"]" * DEEP_LEVELS + b"}"
    return _splice(records, nested)


def _invalid_utf8(records: Records) -> bytes:
    """Put bytes that are not UTF-8 in one record's title."""
    marker = "@@INVALID@@"
    bad = [dict(records[0], title=marker), *records[1:]] if records else []
    return _encode(bad).replace(marker.encode(), b"\xff\xfe\xc3(")


def _nul(records: Records) -> bytes:
    """Put NUL characters in one record's body (Postgres text cannot hold them)."""
    return _encode([dict(records[0], body="a\u0000b\u0000"), *records[1:]] if records else [])


def _long_string(records: Records) -> bytes:
    """Make one record's body a million characters long."""
    return _encode([dict(records[0], body="x" * LONG_STRING), *records[1:]] if records else [])


def _unicode(records: Records) -> bytes:
    """Write every record's title in text from every Unicode plane."""
    return _encode([dict(r, title=f"{UNICODE} {r.get('id')}") for r in records])


def _sql(records: Records) -> bytes:
    """Put SQL metacharacters in every text field of every record."""
    return _encode([{k: SQL if isinstance(v, str) else v for k, v in r.items()} for r in records])


def _wrong_types(records: Records) -> bytes:
    """Put a string where an int belongs in one record; drop a field from another."""
    broken = [dict(r) for r in records]
    if broken:
        broken[0]["userId"] = "one"
    if len(broken) > 1:
        broken[1].pop("title", None)
    return _encode(broken)


def _duplicate_ids(records: Records) -> bytes:
    """Give the page's records page 1's ids (the same ids on two pages)."""
    size = len(records)
    return _encode([dict(r, id=i + 1) for i, r in enumerate(records)][:size])


RECORD_KINDS: dict[str, Callable[[Records], bytes]] = {
    "deep": _deep,
    "invalid_utf8": _invalid_utf8,
    "nul": _nul,
    "long_string": _long_string,
    "unicode": _unicode,
    "sql": _sql,
    "wrong_types": _wrong_types,
    "duplicate_ids": _duplicate_ids,
}
ANSWER_KINDS = ("huge", "html", "not_array", "redirect", "trickle")
HEADER_KINDS = ("total_high", "total_low", "link_loop")
HOSTILE_KINDS = (*RECORD_KINDS, *ANSWER_KINDS, *HEADER_KINDS)


def _encode(records: Records) -> bytes:
    """Encode records as compact UTF-8 JSON."""
    return json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode()


def _splice(records: Records, raw: bytes) -> bytes:
    """Encode the records with ``raw`` (already JSON) in place of the first one."""
    rest = _encode(records[1:])[1:-1]
    return b"[" + raw + (b"," + rest if rest else b"") + b"]"


def lie(kind: str, headers: dict[str, str], total: int, url: str) -> None:
    """Change a page's paging headers as a header kind says."""
    if kind == "total_high":
        headers["X-Total-Count"] = str(total * 3)
    elif kind == "total_low":
        headers["X-Total-Count"] = str(total // 2)
    elif kind == "link_loop":
        headers.pop("X-Total-Count", None)
        base = url.split("?")[0]
        headers["Link"] = (
            f'<{base}?_page=1&_limit=10>; rel="next", <{base}?_page=1000000&_limit=10>; rel="last"'
        )


async def apply(
    kind: str,
    request: web.Request,
    records: Records,
    headers: Mapping[str, str],
    config: Any,
) -> tuple[web.StreamResponse, int]:
    """Answer one page as ``kind`` says; return the answer and how many records it carried."""
    if kind in RECORD_KINDS:
        body = RECORD_KINDS[kind](records)
        return _json(body, headers), len(records)
    if kind == "html":
        return web.Response(body=b"<html><body>502 Bad Gateway</body></html>", headers=headers,
                            content_type="text/html"), 0  # fmt: skip
    if kind == "not_array":
        return _json(b'{"error": "maintenance", "records": []}', headers), 0
    if kind == "redirect":
        target = f"{config.hostile_target.rstrip('/')}{request.path_qs}"
        raise web.HTTPFound(target)
    if kind == "huge":
        return await _stream(request, headers, _huge(config.huge_mb), pause_s=0.0), 1
    if kind == "trickle":
        return await _stream(request, headers, [_encode(records)], pause_s=0.05, piece=16), 0
    raise ValueError(f"unknown hostile kind {kind!r}")


def _json(body: bytes, headers: Mapping[str, str]) -> web.Response:
    """Answer 200 with a JSON body."""
    return web.Response(body=body, headers=headers, content_type="application/json")


def _huge(megabytes: float) -> list[bytes]:
    """Return the chunks of an array of one record with a ``megabytes`` MB string."""
    size, chunk = int(megabytes * 1024 * 1024), b"x" * (1024 * 1024)
    pieces = [b'[{"id": 1, "title": "']
    pieces += [chunk] * (size // len(chunk)) + [b"x" * (size % len(chunk))]
    return [*pieces, b'"}]']


async def _stream(
    request: web.Request,
    headers: Mapping[str, str],
    chunks: list[bytes],
    *,
    pause_s: float,
    piece: int = 0,
) -> web.StreamResponse:
    """Send ``chunks`` as a streamed 200, in pieces of ``piece`` bytes with pauses between."""
    response = web.StreamResponse(headers=headers)
    response.content_type = "application/json"
    await response.prepare(request)
    for chunk in chunks:
        parts = [chunk[i : i + piece] for i in range(0, len(chunk), piece)] if piece else [chunk]
        for part in parts:
            await response.write(part)
            if pause_s:
                await asyncio.sleep(pause_s)
    await response.write_eof()
    return response

"""A paged JSON API in json-server's dialect (JSONPlaceholder, or the local source API).

Paging: the first page (``?_page=1&_limit=K``) tells the total through ``X-Total-Count`` or the
``Link`` header's ``rel="last"``; the other pages are then independent units any worker can
fetch. ``fetch`` (requests) and ``afetch`` (aiohttp) are twins; both map library errors into
``workbench.errors`` and share the no-I/O parts: URLs, paging headers and parsing.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from workbench.error_mapping import map_aiohttp_errors, map_requests_errors
from workbench.errors import HTTPStatusError, MalformedPayloadError
from workbench.sources.source import Payload, RawPage, Source, WorkUnit

_LAST_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?last"?')


def source_name_for(base_url: str) -> str:
    """Name a source by its host: ``local`` for loopback (its port changes from run to run)."""
    host = urlsplit(base_url).hostname or "unknown"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return "local" if loopback else host


def total_pages_from_headers(headers: Mapping[str, str], page_size: int) -> int | None:
    """Read the page count from ``X-Total-Count``, else from the ``Link`` header's last page."""
    total = headers.get("X-Total-Count")
    if total is not None and total.strip().isdigit():
        return max(1, math.ceil(int(total) / page_size))
    match = _LAST_LINK.search(headers.get("Link", ""))
    if match:
        pages = parse_qs(urlsplit(match.group(1)).query).get("_page")
        if pages and pages[0].isdigit():
            return int(pages[0])
    return None


class HttpApiSource(Source):
    """Pages of ``base_url/<resource>?_page=N&_limit=K``; any page can be fetched on its own."""

    cacheable = True

    def __init__(
        self,
        base_url: str,
        *,
        page_size: int = 100,
        timeout_s: float = 10.0,
        name: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.timeout_s = timeout_s
        self.name = name or source_name_for(base_url)

    def __repr__(self) -> str:
        return f"HttpApiSource({self.base_url!r}, page_size={self.page_size})"

    def page_url(self, resource: str, page: int) -> str:
        """Return the URL of one page of a resource."""
        query = urlencode({"_page": page, "_limit": self.page_size})
        return f"{self.base_url}/{resource}?{query}"

    def unit(self, resource: str, page: int) -> WorkUnit:
        """Return the unit of work for one page."""
        return WorkUnit(resource, page, self.page_url(resource, page))

    def first_units(self, resource: str) -> list[WorkUnit]:
        """Return page 1, whose headers tell how many pages there are."""
        return [self.unit(resource, 1)]

    def follow_up_units(
        self, resource: str, total_pages: int | None, max_pages: int | None
    ) -> Iterator[WorkUnit]:
        """Return pages 2..N, N being the total or ``max_pages``, whichever is smaller."""
        last = total_pages or 1
        if max_pages is not None:
            last = min(last, max_pages)
        return (self.unit(resource, page) for page in range(2, last + 1))

    # --- blocking twin ----------------------------------------------------------------

    def open_session(self) -> Any:
        """Return a ``requests.Session`` that reuses connections (one per worker)."""
        import requests

        session = requests.Session()
        session.headers["Accept"] = "application/json"
        return session

    def fetch(self, unit: WorkUnit, session: Any = None) -> Payload:
        """GET one page with requests; an error status raises our ``HTTPStatusError``."""
        if session is None:
            session = self.open_session()
        with map_requests_errors(url=unit.ref):
            response = session.get(unit.ref, timeout=self.timeout_s)
            response.raise_for_status()
            body = response.content
        return Payload(body, total_pages_from_headers(response.headers, self.page_size))

    # --- async twin -------------------------------------------------------------------

    async def aopen_session(self, concurrency: int) -> Any:
        """Return an ``aiohttp.ClientSession`` keeping up to ``concurrency`` connections."""
        import aiohttp

        connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        return aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers={"Accept": "application/json"}
        )

    async def afetch(self, unit: WorkUnit, session: Any = None) -> Payload:
        """GET one page with aiohttp; the same errors as ``fetch``."""
        if session is None:
            async with await self.aopen_session(1) as own:
                return await self.afetch(unit, own)
        with map_aiohttp_errors(url=unit.ref):
            async with session.get(unit.ref) as response:
                body = await response.read()
                if response.status >= 400:
                    raise HTTPStatusError.for_status(
                        response.status,
                        url=unit.ref,
                        retry_after=_retry_after(response.headers.get("Retry-After")),
                    )
                headers = response.headers
        return Payload(body, total_pages_from_headers(headers, self.page_size))

    # --- shared -----------------------------------------------------------------------

    def parse(self, unit: WorkUnit, payload: Payload) -> RawPage:
        """Decode a page: it must be a JSON array (its items are judged later, one by one)."""
        try:
            records = json.loads(payload.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedPayloadError(
                f"invalid JSON from {unit.ref}: {exc}", url=unit.ref
            ) from exc
        if not isinstance(records, list):
            kind = type(records).__name__
            raise MalformedPayloadError(f"expected a JSON array from {unit.ref}, got {kind}")
        return RawPage(unit, records, payload.total_pages)


def _retry_after(value: str | None) -> float | None:
    """Parse a Retry-After header (one parser for both twins, in error_mapping)."""
    from workbench.error_mapping import parse_retry_after

    return parse_retry_after(value)

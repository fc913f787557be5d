"""A paged JSON API in json-server's dialect (JSONPlaceholder, or the local source API).

Paging: the first page (``?_page=1&_limit=K``) tells the total through ``X-Total-Count`` or the
``Link`` header's ``rel="last"``; the other pages are then independent units any worker can
fetch. ``fetch`` (requests) and ``afetch`` (aiohttp) are twins; both map library errors into
``workbench.errors`` and share the no-I/O parts: URLs, paging headers and parsing. Both read
under the same guards (``workbench.sources.http_guards``): a size limit enforced while
reading, one deadline for the whole answer, and redirects followed only within the host.
Parsing keeps the good records of a page whose other records are broken
(``workbench.sources.json_array``).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from workbench.error_mapping import map_aiohttp_errors, map_requests_errors, parse_retry_after
from workbench.errors import HTTPStatusError, RedirectRefusedError
from workbench.sources.http_guards import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    Deadline,
    aread_limited,
    read_limited,
    redirect_target,
)
from workbench.sources.json_array import parse_array
from workbench.sources.source import Payload, RawPage, Source, WorkUnit

#: The largest page body read, unless told otherwise: far above any real page of records.
DEFAULT_MAX_PAGE_BYTES = 32 * 1024 * 1024

_LAST_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?last"?')
_NEXT_LINK = re.compile(r'<[^>]*>\s*;\s*rel="?next"?')


def source_name_for(base_url: str) -> str:
    """Name a source by its host: ``local`` for loopback (its port changes from run to run)."""
    host = urlsplit(base_url).hostname or "unknown"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return "local" if loopback else host


def payload_of(body: bytes, headers: Mapping[str, str], page_size: int) -> Payload:
    """Return a page's payload with the paging facts its headers state."""
    more = bool(_NEXT_LINK.search(headers.get("Link", "")))
    return Payload(body, total_pages_from_headers(headers, page_size), more)


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
        max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
        allowed_redirect_hosts: Collection[str] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size: int = page_size  # never None here, unlike Source's
        #: Seconds one page's whole answer may take, redirects included.
        self.timeout_s = timeout_s
        self.name = name or source_name_for(base_url)
        self.max_page_bytes = max_page_bytes
        self.allowed_redirect_hosts = frozenset(allowed_redirect_hosts)

    def __repr__(self) -> str:
        return f"HttpApiSource({self.base_url!r}, page_size={self.page_size})"

    def page_url(self, resource: str, page: int) -> str:
        """Return the URL of one page of a resource."""
        query = urlencode({"_page": page, "_limit": self.page_size})
        return f"{self.base_url}/{resource}?{query}"

    def unit(self, resource: str, page: int) -> WorkUnit:
        """Return the unit of work for one page."""
        return WorkUnit(resource, page, self.page_url(resource, page))

    def first_units(self, resource: str, ahead: int = 1) -> list[WorkUnit]:
        """Return pages 1..``ahead``: page 1's headers tell the total; the rest are a guess."""
        return [self.unit(resource, page) for page in range(1, max(1, ahead) + 1)]

    def follow_up_units(
        self, resource: str, total_pages: int | None, max_pages: int | None, after: int = 1
    ) -> Iterator[WorkUnit]:
        """Return pages ``after``+1..N, N the total or ``max_pages``, whichever is smaller."""
        last = total_pages or 1
        if max_pages is not None:
            last = min(last, max_pages)
        return (self.unit(resource, page) for page in range(after + 1, last + 1))

    def units_after(self, resource: str, page: int, count: int) -> list[WorkUnit]:
        """Return the ``count`` pages after ``page``: the source said there are more."""
        return [self.unit(resource, n) for n in range(page + 1, page + count + 1)]

    # --- blocking twin ----------------------------------------------------------------

    def open_session(self) -> Any:
        """Return a ``requests.Session`` that reuses connections (one per worker)."""
        import requests

        session = requests.Session()
        session.headers["Accept"] = "application/json"
        return session

    def fetch(self, unit: WorkUnit, session: Any = None) -> Payload:
        """GET one page with requests, under the size, time and redirect guards."""
        session = session if session is not None else self.open_session()
        deadline, url = Deadline(self.timeout_s, unit.ref), unit.ref
        with map_requests_errors(url=unit.ref):
            for _ in range(MAX_REDIRECTS + 1):
                response = session.get(
                    url, timeout=deadline.remaining(), allow_redirects=False, stream=True
                )
                try:
                    if response.status_code in REDIRECT_STATUSES:
                        location = response.headers.get("Location")
                        url = redirect_target(unit.ref, url, location, self.allowed_redirect_hosts)
                        continue
                    self._check_status(response.status_code, response.headers, unit.ref)
                    body = read_limited(response, self.max_page_bytes, deadline)
                    response.raw.release_conn()  # read to the end: keep the connection alive
                finally:
                    response.close()
                return payload_of(body, response.headers, self.page_size)
        raise _too_many_redirects(unit.ref)

    # --- async twin -------------------------------------------------------------------

    async def aopen_session(self, concurrency: int) -> Any:
        """Return an ``aiohttp.ClientSession`` keeping up to ``concurrency`` connections."""
        import aiohttp

        connector = aiohttp.TCPConnector(limit=concurrency)  # every host's connections
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        return aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers={"Accept": "application/json"}
        )

    async def afetch(self, unit: WorkUnit, session: Any = None) -> Payload:
        """GET one page with aiohttp; the same guards and errors as ``fetch``."""
        if session is None:
            async with self.asession(1) as own:
                return await self.afetch(unit, own)
        deadline, url = Deadline(self.timeout_s, unit.ref), unit.ref
        with map_aiohttp_errors(url=unit.ref):
            for _ in range(MAX_REDIRECTS + 1):
                async with session.get(url, allow_redirects=False) as response:
                    if response.status in REDIRECT_STATUSES:
                        location = response.headers.get("Location")
                        url = redirect_target(unit.ref, url, location, self.allowed_redirect_hosts)
                        continue
                    self._check_status(response.status, response.headers, unit.ref)
                    body = await aread_limited(response, self.max_page_bytes, deadline)
                    headers = response.headers
                return payload_of(body, headers, self.page_size)
        raise _too_many_redirects(unit.ref)

    # --- shared -----------------------------------------------------------------------

    @staticmethod
    def _check_status(status: int, headers: Mapping[str, str], url: str) -> None:
        """Raise the ``HTTPStatusError`` an error status means (with any ``Retry-After``)."""
        if status >= 400:
            retry_after = parse_retry_after(headers.get("Retry-After"))
            raise HTTPStatusError.for_status(status, url=url, retry_after=retry_after)

    def parse(self, unit: WorkUnit, payload: Payload) -> RawPage:
        """Decode a page: a JSON array whose elements are judged later, one by one."""
        records = parse_array(payload.body, url=unit.ref)
        return RawPage(unit, records, payload.total_pages, more=payload.more)


def _too_many_redirects(url: str) -> RedirectRefusedError:
    """Build the error for a chain of more than ``MAX_REDIRECTS`` redirects."""
    return RedirectRefusedError(f"{url}: more than {MAX_REDIRECTS} redirects", url=url)

"""What a client owes itself against a hostile or broken server: limits checked while reading.

* **Size.** A body is read in chunks and abandoned as soon as it passes ``limit`` bytes (a
  ``Content-Length`` over the limit is refused before reading at all), so memory stays
  bounded whatever the server sends: ``PayloadTooLargeError``.
* **Time.** One deadline covers the whole answer, not each read: a server that trickles a
  byte at a time is cut off once the page's total time is up (``SourceTimeoutError``), where
  a per-read timeout alone would wait forever.
* **Redirects.** Followed only to the same host, or to a host the user allowed, at most
  ``MAX_REDIRECTS`` times; a redirect elsewhere is ``RedirectRefusedError``, so another
  host's records are never stored as this source's.

Sync (requests) and async (aiohttp) twins share the policy and differ only in how they read.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from workbench.errors import PayloadTooLargeError, RedirectRefusedError, SourceTimeoutError

__all__ = [
    "MAX_REDIRECTS",
    "REDIRECT_STATUSES",
    "Deadline",
    "aread_limited",
    "check_declared_size",
    "read_limited",
    "redirect_target",
]

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Bytes asked for per read: small enough that a trickle is noticed, large enough to be fast.
_CHUNK = 256 * 1024


class Deadline:
    """The moment one page's answer must be complete by."""

    def __init__(self, seconds: float, url: str) -> None:
        self.seconds = seconds
        self.url = url
        self._ends = time.monotonic() + seconds

    def remaining(self) -> float:
        """Return the seconds left, raising ``SourceTimeoutError`` once there are none."""
        left = self._ends - time.monotonic()
        if left <= 0:
            raise SourceTimeoutError(
                f"no complete answer from {self.url} within {self.seconds:g} s", url=self.url
            )
        return left


def check_declared_size(headers: Mapping[str, str], limit: int, url: str) -> None:
    """Refuse a body whose ``Content-Length`` already says it is over ``limit``."""
    declared = headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(
            f"{url} announced {int(declared):,} bytes: more than the {limit:,}-byte limit",
            url=url,
        )


def _too_large(url: str, limit: int) -> PayloadTooLargeError:
    """Build the error for a body that passed ``limit`` while it was read."""
    return PayloadTooLargeError(
        f"{url} sent more than the {limit:,}-byte limit; the rest was not read", url=url
    )


def read_limited(response: Any, limit: int, deadline: Deadline) -> bytes:
    """Read a streamed ``requests`` response's body within ``limit`` bytes and ``deadline``."""
    check_declared_size(response.headers, limit, deadline.url)
    raw, size = response.raw, 0
    chunks: list[bytes] = []
    while True:
        deadline.remaining()
        # read1: at most one read of the socket, so a trickle cannot hold us past the deadline.
        chunk = raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise _too_large(deadline.url, limit)
        chunks.append(chunk)


async def aread_limited(response: Any, limit: int, deadline: Deadline) -> bytes:
    """Async twin of ``read_limited`` for an ``aiohttp`` response."""
    check_declared_size(response.headers, limit, deadline.url)
    body = bytearray()
    async for chunk in response.content.iter_any():
        deadline.remaining()
        body += chunk
        if len(body) > limit:
            raise _too_large(deadline.url, limit)
    return bytes(body)


def redirect_target(
    origin: str, current: str, location: str | None, allowed_hosts: Collection[str]
) -> str:
    """Return where a redirect leads, if that is ``origin``'s host or an allowed one."""
    if not location:
        raise RedirectRefusedError(f"{current} redirected without a Location", url=current)
    target = urljoin(current, location)
    home, there = urlsplit(origin), urlsplit(target)
    same = (there.hostname, there.port) == (home.hostname, home.port)
    if not (same or there.hostname in allowed_hosts or there.netloc in allowed_hosts):
        raise RedirectRefusedError(
            f"{current} redirected to another host ({there.netloc}); not followed: allow it "
            "with WORKBENCH_ALLOWED_REDIRECT_HOSTS",
            url=current,
        )
    return target

"""json-server 0.17 paging: which slice of a list to send, and the ``Link`` header around it.

``_page`` wins over ``_end``, which wins over ``_limit`` (json-server's order). Two departures
from json-server: offset windows (``_start`` with ``_end`` or ``_limit``) get a ``Link`` header
too, with the same rel names, so every paging style can be followed; and ``_start`` alone
sends from there to the end instead of being ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from yarl import URL

__all__ = ["DEFAULT_PAGE_LIMIT", "PAGING_PARAMS", "PagingError", "Window", "link_header"]

PAGING_PARAMS = frozenset({"_page", "_limit", "_start", "_end"})
#: json-server's page size when ``_page`` comes without ``_limit``.
DEFAULT_PAGE_LIMIT = 10

Style = Literal["page", "range", "limit", "open"]


class PagingError(ValueError):
    """A paging parameter is not a usable number; the message names it and its value."""


@dataclass(frozen=True)
class Window:
    """The 0-based positions ``start:stop`` of the list to send (``stop`` None: to the end)."""

    start: int
    stop: int | None
    size: int
    style: Style

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Window | None:
        """Read the paging parameters, or return None when the whole list is wanted."""
        page = _number(query, "_page", minimum=1)
        limit = _number(query, "_limit", minimum=0)
        start = _number(query, "_start", minimum=0)
        end = _number(query, "_end", minimum=0)
        if page is not None:
            size = DEFAULT_PAGE_LIMIT if limit is None else limit
            if size == 0:
                raise PagingError("_limit='0': expected an integer >= 1 when _page is given")
            return cls((page - 1) * size, page * size, size, "page")
        offset = start or 0
        if end is not None:
            return cls(offset, end, max(0, end - offset), "range")
        if limit is not None:
            return cls(offset, offset + limit, limit, "limit")
        if start is not None:
            return cls(offset, None, 0, "open")
        return None

    def neighbours(self, total: int) -> list[tuple[str, int]]:
        """Return ``(rel, start)`` of the first, prev, next and last windows that exist.

        As in json-server, there are none when this window is empty or holds the whole list.
        """
        shown = len(range(total)[self.start : self.stop])
        if not shown or not self.size or shown == total:
            return []
        last = self.start + (total - 1 - self.start) // self.size * self.size
        links = [("first", 0)]
        if self.start > 0:
            links.append(("prev", max(0, self.start - self.size)))
        if self.start + shown < total:
            links.append(("next", self.start + self.size))
        links.append(("last", last))
        return links

    def params_at(self, start: int) -> dict[str, str]:
        """Return the paging parameters selecting the window of the same size at ``start``."""
        if self.style == "page":
            return {"_page": str(start // self.size + 1)}
        if self.style == "range":
            return {"_start": str(start), "_end": str(start + self.size)}
        return {"_start": str(start)}


def link_header(url: URL, query: Sequence[tuple[str, str]], window: Window, total: int) -> str:
    """Build the ``Link`` header value (empty when there are no neighbours) for ``window``.

    ``query`` is the request's query as sent (minus anything that must not be repeated);
    each link keeps its parameters in order and changes only the paging ones.
    """
    neighbours = window.neighbours(total)
    if not neighbours:
        return ""
    # The URL once, then each link's query joined from pairs encoded once: a page's links
    # differ only in the paging numbers (the server builds this for every page it sends).
    base = str(url.with_query(None))
    encoded: dict[tuple[str, str], str] = {}
    links = []
    for rel, start in neighbours:
        pairs = _replace(query, window.params_at(start))
        parts = [encoded.get(pair) or encoded.setdefault(pair, _encode(pair)) for pair in pairs]
        links.append(f'<{base}?{"&".join(parts)}>; rel="{rel}"')
    return ", ".join(links)


def _encode(pair: tuple[str, str]) -> str:
    """Return one ``key=value`` of a query, encoded as ``URL.with_query`` encodes it."""
    key, value = pair
    if key in PAGING_PARAMS and value.isascii() and value.isdigit():
        return f"{key}={value}"  # nothing in it to encode
    return URL.build(query=[pair]).raw_query_string


def _replace(query: Sequence[tuple[str, str]], new: Mapping[str, str]) -> list[tuple[str, str]]:
    """Swap in ``new`` values where their keys appear (once) and append the missing ones."""
    pairs: list[tuple[str, str]] = []
    placed: set[str] = set()
    for key, value in query:
        if key not in new:
            pairs.append((key, value))
        elif key not in placed:
            pairs.append((key, new[key]))
            placed.add(key)
    pairs.extend((key, value) for key, value in new.items() if key not in placed)
    return pairs


def _number(query: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    text = query.get(name)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise PagingError(f"{name}={text!r}: expected an integer >= {minimum}")
    return int(text)

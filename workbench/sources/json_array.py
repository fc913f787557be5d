"""A page's JSON array, parsed so that one bad element never costs the others.

The fast path is one ``orjson.loads`` of the whole body. When that fails, the body is split
into its top-level elements by a small scanner (iterative: no recursion, however deep the
nesting) and each element is parsed alone; an element that still fails (invalid UTF-8, a
nesting deeper than orjson's limit of 1024 levels, a stray token) becomes an ``Unparsed``
item, which the processor turns into a reject with the reason. Only a body that is not a
JSON array at all, or is cut short, fails the page:

* not JSON, or cut off before its closing ``]``: ``MalformedPayloadError`` (transient: a
  truncated answer is worth another attempt);
* valid JSON of another shape (an object, a string): ``UnexpectedPayloadError``
  (permanent: asking again gets the same shape).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from workbench.errors import MalformedPayloadError, UnexpectedPayloadError
from workbench.processing import RAW_TEXT_LIMIT, Unparsed

__all__ = ["parse_array", "split_array"]

#: The bytes that can change the scanner's state; everything else is skipped by the regex.
_SPECIAL = re.compile(rb'[\\"\[\]{},]')
_WHITESPACE = b" \t\r\n"


def parse_array(body: bytes, *, url: str) -> list[Any]:
    """Return the page's items: parsed records, or ``Unparsed`` for elements that fail alone."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        elements = split_array(body)
        if elements is None:
            raise MalformedPayloadError(f"invalid JSON from {url}: {exc}", url=url) from exc
        return [_element(body[start:end]) for start, end in elements]
    if not isinstance(value, list):
        kind = type(value).__name__
        raise UnexpectedPayloadError(f"expected a JSON array from {url}, got {kind}", url=url)
    return value


def _element(raw: bytes) -> Any:
    """Parse one element, or keep it as ``Unparsed`` with orjson's reason."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        text = raw[: RAW_TEXT_LIMIT * 4].decode("utf-8", errors="backslashreplace")
        return Unparsed(text, f"invalid JSON: {exc}")


def split_array(body: bytes) -> list[tuple[int, int]] | None:
    """Return the byte range of each top-level element of a JSON array, or None.

    None means the body is not an array whose brackets and strings balance (not JSON, or
    cut short). The scanner only tracks strings, escapes and bracket depth: whether each
    element is valid JSON is for the parser to say.
    """
    start = len(body) - len(body.lstrip(_WHITESPACE))
    if body[start : start + 1] != b"[":
        return None
    depth, in_string, escaped_at = 0, False, -1
    elements: list[tuple[int, int]] = []
    element_start = start + 1
    for match in _SPECIAL.finditer(body, start):
        at, char = match.start(), body[match.start()]
        if in_string:
            if at == escaped_at:
                continue
            if char == 0x5C:  # backslash: the next byte is escaped
                escaped_at = at + 1
            elif char == 0x22:  # closing quote
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in (0x5B, 0x7B):  # [ {
            depth += 1
        elif char in (0x5D, 0x7D):  # ] }
            depth -= 1
            if depth == 0:
                _add(elements, body, element_start, at)
                rest = body[at + 1 :].strip(_WHITESPACE)
                return elements if not rest else None
        elif char == 0x2C and depth == 1:  # a comma between top-level elements
            _add(elements, body, element_start, at)
            element_start = at + 1
    return None  # never closed: cut short


def _add(elements: list[tuple[int, int]], body: bytes, start: int, end: int) -> None:
    """Add the element between ``start`` and ``end``, trimmed; an empty one (``[]``) is none."""
    while start < end and body[start] in _WHITESPACE:
        start += 1
    while end > start and body[end - 1] in _WHITESPACE:
        end -= 1
    if start < end:
        elements.append((start, end))

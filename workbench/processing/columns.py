r"""The scalar rules as column operations: every text, type or email of a page at once.

Each function takes a whole column and returns, element by element, what the per-record rules
of ``workbench.processing.steps`` give: ``clean_texts`` is ``clean_text``, ``word_counts`` is
``WordCounts``' ``len(text.split())``, ``emails`` is ``NormaliseEmail``, ``kinds`` names the
JSON type of each value. ``tests/processing/test_columns.py`` holds them to that on generated
text.

Python's ``\s`` is exactly ``str.isspace()``, the whitespace ``str.split()`` splits on, so
the cleaning regexes say the scalar rules as they are written: a run of whitespace other
than a newline becomes one space, a space next to a newline goes, and the ends are stripped.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "KINDS",
    "OTHER",
    "clean_texts",
    "emails",
    "kinds",
    "lengths",
    "needs_cleaning",
    "word_counts",
]

#: The JSON scalar types the vectorised processor checks, in the order ``kinds`` numbers them.
KINDS: tuple[type, ...] = (str, int, bool, type(None), float)
#: The number ``kinds`` gives any other type (lists, dicts, subclasses, numpy scalars, ...).
OTHER = -1
_KIND_INDEX = pd.Index(KINDS, dtype=object)

# A text is already clean (``steps._clean_already``) when it is ASCII and holds none of these.
# They are looked for once in the whole page's text joined by _EDGE, a character cleaning
# leaves alone, so that the needles holding it find a text's leading or trailing space or
# newline; an _EDGE inside a text can only mark that text for a cleaning that changes nothing.
_EDGE = "\x01"
_NEEDLES = (
    *("  ", " \n", "\n ", "\x00", "\r", "\t", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f"),
    *(_EDGE + " ", _EDGE + "\n", " " + _EDGE, "\n" + _EDGE),
)
_SURROGATE = "[\ud800-\udfff]"
_BLANKS = r"[^\S\n]+"
_AROUND_NEWLINE = " ?\n ?"
_DOMAIN = r"(?s).@([^@]+)\Z"


def kinds(values: Iterable[Any]) -> np.ndarray:
    """Give the place of each value's exact type in ``KINDS``; ``OTHER`` for any other type."""
    # pandas takes any array-like target (a list becomes an Index); its stubs ask for an Index.
    return _KIND_INDEX.get_indexer(list(map(type, values)))  # type: ignore[arg-type]


def lengths(texts: Sequence[str]) -> np.ndarray:
    """Give the length of each text."""
    return np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))


def needs_cleaning(texts: Sequence[str]) -> np.ndarray:
    """Mark the texts ``clean_text`` could change: never one it leaves as it is, unmarked.

    One scan of the joined page per needle, in C, instead of a dozen per text; a text found
    is skipped at once, so the scans stay linear however dirty the page is.
    """
    marked = np.zeros(len(texts), dtype=bool)
    joined = _EDGE + _EDGE.join(texts) + _EDGE
    if not joined.isascii():
        marked |= ~pd.Series(texts, dtype=object).str.isascii().to_numpy(dtype=bool)
    # ends[i]: where the _EDGE after text i stands in ``joined``.
    ends = np.cumsum([len(text) + 1 for text in texts]).tolist()
    for needle in _NEEDLES:
        skip = 1 if needle[0] == _EDGE else 0  # a needle opening on _EDGE belongs to the next text
        at = joined.find(needle)
        while at >= 0:
            index = bisect.bisect_left(ends, at + skip)
            marked[index] = True
            at = joined.find(needle, ends[index])
    return marked


def clean_texts(texts: pd.Series) -> pd.Series:
    """Clean every text of a column under ``clean_text``'s rules, in its order."""
    texts = texts.str.replace("\x00", "", regex=False).str.replace("\r\n?", "\n", regex=True)
    surrogates = texts.str.contains(_SURROGATE, regex=True)
    if surrogates.any():  # pairs split in two are joined, lone halves become U+FFFD
        fixed = texts[surrogates].str.encode("utf-16", "surrogatepass")
        texts = texts.copy()
        texts[surrogates] = fixed.str.decode("utf-16", "replace")
    texts = texts.str.normalize("NFC")
    texts = texts.str.replace(_BLANKS, " ", regex=True)
    texts = texts.str.replace(_AROUND_NEWLINE, "\n", regex=True)
    return texts.str.strip(" \n")


def word_counts(texts: pd.Series) -> pd.Series:
    """Count each text's whitespace-separated words, as ``len(text.split())`` does.

    Not ``texts.str.split().str.len()``: that keeps every text's list of words alive at once,
    and on a batch of 10,000 the allocations and garbage collections cost more than the
    splitting. One list at a time, each dropped as soon as it is counted, gives the same counts.
    """
    counts = np.fromiter(map(len, map(str.split, texts)), dtype=np.int64, count=len(texts))
    return pd.Series(counts, index=texts.index)


def emails(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Lowercase each address; give its domain, or None without a local part, an @ and a domain."""
    lowered = texts.str.lower()
    # rpartition("@")'s rule as one regex: a character, the last @, then the rest, not empty.
    domains = lowered.str.extract(_DOMAIN, expand=False).astype(object)
    return lowered, domains.where(domains.notna(), None)

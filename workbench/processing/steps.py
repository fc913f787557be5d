r"""Small picklable processing steps: clean, validate, enrich, checksum and burn CPU.

A step is any picklable callable taking the record's dict and returning the dict to go on
with. The processor owns that dict (cleaning builds a fresh one), so steps mutate it in
place and return it rather than copying. Every step here is a module-level class with
``__slots__`` and no lambdas or closures, so it pickles into a ``ProcessPoolExecutor``
worker; none keeps state between records, so one instance is safe to share across threads.

Cleaning rules for every string value, at any depth:

* NUL characters are dropped (Postgres ``text`` and ``jsonb`` refuse ``\x00``);
* ``\r\n`` and lone ``\r`` become ``\n``; newlines are kept, since bodies are multi-line;
* unpaired surrogates (which ``json.loads`` lets through, but UTF-8 cannot encode) become
  U+FFFD, then the text is normalised to NFC;
* each run of whitespace other than a newline (spaces, tabs, no-break spaces, ...) becomes
  one space, each line loses its leading and trailing whitespace, and so does the whole text.

Keys are only stripped of NULs and normalised to NFC: their spelling is the schema's, so
whitespace in them is left alone. Two keys that become equal after cleaning collapse into
one, the later winning. A record nested deeper than ``MAX_DEPTH`` levels, or with a text
value longer than ``MAX_TEXT`` characters, is a ``ValidationError`` (a reject that says
so): never a ``RecursionError``, never a row no one can read.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from workbench.errors import ConfigError, ValidationError
from workbench.processing.checksum import canonical_json, content_checksum
from workbench.processing.schemas import Schema

__all__ = [
    "DEFAULT_ENRICHMENT",
    "MAX_DEPTH",
    "MAX_TEXT",
    "BurnCpu",
    "CleanStrings",
    "NormaliseEmail",
    "Step",
    "StepBase",
    "Validate",
    "WordCounts",
    "canonical_json",
    "clean_text",
    "clean_value",
    "content_checksum",
    "step_name",
]

#: A processing step: takes the record's dict, returns the dict to continue with.
Step = Callable[[dict[str, Any]], dict[str, Any]]

_JSON_SCALARS = frozenset({int, float, bool, type(None)})
#: How deeply a record may nest objects and arrays (JSONPlaceholder's users go 3 deep).
MAX_DEPTH = 32
#: The longest text a record's value may hold, in characters (a post's body is ~200).
MAX_TEXT = 100_000
_MASK64 = 0xFFFFFFFFFFFFFFFF
_GOLDEN = 0x9E3779B97F4A7C15
_FNV_PRIME = 0x100000001B3


def _fix_surrogates(text: str) -> str:
    """Replace unpaired surrogates with U+FFFD and join any split pairs."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _clean_already(text: str) -> bool:
    """Tell, cheaply, that an ASCII text is one ``clean_text`` would return unchanged.

    True when words are separated by single spaces or newlines only (none of the other ASCII
    whitespace ``str.split()`` splits on), no line starts or ends with a space, and the text
    neither starts nor ends with whitespace: most real text, which then skips splitting
    every line into words and joining them again.
    """
    return (
        "  " not in text
        and " \n" not in text
        and "\n " not in text
        and text[:1] not in " \n"  # also refuses the empty text, whose [:1] is ""
        and text[-1:] not in " \n"
        and "\x00" not in text
        and "\r" not in text
        and "\t" not in text
        and "\x0b" not in text
        and "\x0c" not in text
        and "\x1c" not in text
        and "\x1d" not in text
        and "\x1e" not in text
        and "\x1f" not in text
    )


def clean_text(text: str) -> str:
    """Clean one string value under the module's rules."""
    if text.isascii() and _clean_already(text):
        return text
    if "\x00" in text:
        text = text.replace("\x00", "")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():
        text = unicodedata.normalize("NFC", _fix_surrogates(text))
    # str.split() with no argument splits on runs of any whitespace and drops the ends,
    # which is the whole collapsing rule per line, and is much faster than a regex.
    if "\n" not in text:
        return " ".join(text.split())
    return "\n".join([" ".join(line.split()) for line in text.split("\n")]).strip("\n")


def _clean_key(key: object) -> object:
    """Clean one mapping key: drop NULs and normalise to NFC, nothing more."""
    if type(key) is not str or (key.isascii() and "\x00" not in key):
        return key
    return unicodedata.normalize("NFC", _fix_surrogates(key.replace("\x00", "")))


def clean_value(value: Any, depth: int = 0) -> Any:
    """Return ``value`` cleaned at every depth; mappings become dicts, tuples become lists."""
    kind = type(value)
    if kind is str:
        return clean_text(_bounded(value))
    if kind in _JSON_SCALARS:  # before the Mapping check, which is slow for non-mappings
        return value
    if depth >= MAX_DEPTH:
        raise ValidationError(f"nested deeper than {MAX_DEPTH} levels")
    if kind is dict:
        return _clean_dict(value, depth + 1)
    if isinstance(value, Mapping):
        return {_clean_key(key): clean_value(item, depth + 1) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [clean_value(item, depth + 1) for item in value]
    if isinstance(value, str):  # a str subclass: clean it as plain text
        return clean_text(_bounded(str(value)))
    return value


def _bounded(text: str, key: object = None) -> str:
    """Return ``text``, or raise ``ValidationError`` when it is longer than ``MAX_TEXT``."""
    if len(text) > MAX_TEXT:
        where = f"field {key!r}" if key is not None else "a text value"
        raise ValidationError(f"{where} is {len(text):,} characters long: at most {MAX_TEXT:,}")
    return text


def _clean_dict(value: dict[Any, Any], depth: int) -> dict[Any, Any]:
    """Clean a plain dict: ``clean_value``'s commonest case, with its per-item calls inlined."""
    cleaned = {}
    for key, item in value.items():
        if type(key) is str and (not key.isascii() or "\x00" in key):
            key = _clean_key(key)
        kind = type(item)
        if kind is str:
            item = clean_text(item if len(item) <= MAX_TEXT else _bounded(item, key))
        elif kind not in _JSON_SCALARS:
            item = clean_value(item, depth)
        cleaned[key] = item  # a later key that cleans to the same text wins, as in a dict display
    return cleaned


def step_name(step: object) -> str:
    """Name a step for a reject reason: a label, a function's name or an object's class."""
    if isinstance(step, str):
        return step
    return getattr(step, "__name__", None) or type(step).__name__


class StepBase:
    """Value semantics for slotted steps: equal, hashed and shown by their slot values."""

    __slots__: tuple[str, ...] = ()

    def _state(self) -> tuple[Any, ...]:
        """Return the values of the instance's slots, in declaration order."""
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._state() == self._state()

    def __hash__(self) -> int:
        return hash((type(self), self._state()))

    def __repr__(self) -> str:
        arguments = ", ".join(repr(value) for value in self._state())
        return f"{type(self).__name__}({arguments})"


class CleanStrings(StepBase):
    """Clean every string in the record, and every key, at any depth."""

    __slots__ = ()

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return a cleaned copy of ``data``; the caller's dict is never modified."""
        return clean_value(data)  # type: ignore[no-any-return]


class Validate(StepBase):
    """Check the record against a schema, raising ``ValidationError`` on the first break."""

    __slots__ = ("schema",)

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        """Validate ``data`` in place (integral floats become ints) and return it."""
        self.schema.validate(data)
        return data


class WordCounts(StepBase):
    """Add ``<field>_words``, the whitespace-separated word count, for each text field present.

    An existing ``<field>_words`` in the source is overwritten: enrichment owns those names.
    """

    __slots__ = ("_targets", "fields")

    def __init__(self, fields: tuple[str, ...] = ("title", "body")) -> None:
        self.fields = tuple(fields)
        # (field, name of its count): built once, not once per record.
        self._targets = tuple((field, f"{field}_words") for field in self.fields)

    def _state(self) -> tuple[Any, ...]:
        """Return what defines the step (its fields; the count names follow from them)."""
        return (self.fields,)

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        """Add the word counts to ``data`` and return it."""
        for field, target in self._targets:
            text = data.get(field)
            if type(text) is str:
                data[target] = len(text.split())
        return data


class NormaliseEmail(StepBase):
    """Lowercase the email field and add ``<field>_domain`` (``None`` when there is no ``@``)."""

    __slots__ = ("field",)

    def __init__(self, field: str = "email") -> None:
        self.field = field

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        """Normalise the email in ``data``, if it has one, and return it."""
        email = data.get(self.field)
        if type(email) is str:
            email = email.lower()
            local, at, domain = email.rpartition("@")
            data[self.field] = email
            data[f"{self.field}_domain"] = domain if at and local and domain else None
        return data


class BurnCpu(StepBase):
    """Spend deterministic pure-Python CPU time per record, to show the GIL in benchmarks.

    The work is integer arithmetic in the interpreter loop, which never releases the GIL
    (unlike ``hashlib`` on large inputs), so threads serialise on it and processes do not.
    The record passes through unchanged.
    """

    __slots__ = ("iterations",)

    def __init__(self, iterations: int) -> None:
        if type(iterations) is not int or iterations < 0:
            raise ConfigError(f"BurnCpu iterations must be an int >= 0, got {iterations!r}")
        self.iterations = iterations

    def work(self, seed: int) -> int:
        """Run the iterations from ``seed`` and return the 64-bit result, fixed by the seed."""
        state = seed & _MASK64
        for _ in range(self.iterations):
            # Xorshift-multiply mixing: deterministic and independent of PYTHONHASHSEED; the
            # added constant keeps a zero seed from staying zero.
            state = ((state ^ (state >> 29) ^ _GOLDEN) * _FNV_PRIME) & _MASK64
        return state

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        """Burn the configured CPU seeded by the record's ``id`` and return ``data`` unchanged."""
        record_id = data.get("id")
        self.work(record_id if type(record_id) is int else 0)
        return data


#: The enrichment every resource gets unless the processor is given other steps.
DEFAULT_ENRICHMENT: tuple[Step, ...] = (WordCounts(), NormaliseEmail())

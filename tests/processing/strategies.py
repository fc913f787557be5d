"""Hypothesis strategies for hostile records: texts, values, records and batches of every kind."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from hypothesis import strategies as st

from workbench.processing import Unparsed
from workbench.processing.schemas import Fields, schema_for
from workbench.processing.steps import MAX_DEPTH, MAX_TEXT

#: Pieces of text every cleaning rule has an opinion on: NUL, CR, tabs and the other ASCII
#: whitespace, Unicode whitespace, combining and composed characters, astral characters,
#: surrogates (paired and not), case that changes length, and the @ of addresses.
HOSTILE = (
    *("\x00", "\r", "\r\n", "\n", "\n\n", "\t", " ", "  ", "\x0b", "\x0c", "\x01", "\x7f"),
    *("\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u1680", "\u2000", "\u2001", "\u200b"),
    *("\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff", "e\u0301", "\u0301", "\u212b"),
    *("\U0001d400", "\U0001f600", "\ud800", "\udbff", "\udc00", "\ud83d", "\ude00", "\u0130"),
    *("\u00df", "@", "A", "b", "word", "Ab@Ex.COM"),
)
#: Texts near and over the length limit, clean and not.
LONG_TEXTS = ("a" * (MAX_TEXT + 1), ("x \t" * MAX_TEXT)[:MAX_TEXT], " a" * (MAX_TEXT // 2))

texts = st.one_of(
    st.lists(st.sampled_from(HOSTILE), max_size=12).map("".join),
    st.text(max_size=24),
    st.text(st.characters(codec="utf-8", exclude_categories=()), max_size=8),
    st.sampled_from(("", "plain words", "a@b", "x@", "@y", "a@b@c", "line\n\nline")),
)
keys = st.sampled_from(
    ("extra", "note", "title_words", "email", "email_domain", "body", "ke\x00y", "cafe\u0301")
) | st.sampled_from(("caf\u00e9", " spaced  key ", "", "id2"))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
wrong_values = st.one_of(
    texts,
    st.booleans(),
    st.none(),
    st.sampled_from((0, -1, -(2**70), 2**70, 3.0, -2.0, 1.5, float("nan"), float("inf"))),
    st.lists(st.integers(), max_size=2),
    st.sampled_from(({}, {"a": 1}, ("t",))),
)


def _deep(levels: int) -> dict[str, Any]:
    """Return an object nested ``levels`` deep."""
    value: dict[str, Any] = {"leaf": " x "}
    for _ in range(levels):
        value = {"down": value}
    return value


def valid_value(kind: Any) -> st.SearchStrategy[Any]:
    """Values a schema kind accepts: positive ints, texts, bools, objects of the fields."""
    if kind is int:
        return st.integers(1, 2**66)
    if kind is str:
        return texts
    if kind is bool:
        return st.booleans()
    return valid_record(kind)


def valid_record(fields: Fields) -> st.SearchStrategy[dict[str, Any]]:
    """Records with every required field of ``fields``, each of a valid value."""
    return st.fixed_dictionaries({name: valid_value(kind) for name, kind in fields})


def mutate(data: st.DataObject, record: dict[str, Any]) -> Any:
    """Break ``record`` in one drawn way, or give it something unusual but valid."""
    record = dict(record)
    how = data.draw(
        st.sampled_from(
            ("type", "missing", "extra", "reorder", "long", "deep", "nested", "int key", "not")
            + ("inner",) * 2
        )
    )
    names = list(record)
    objects = [name for name in names if type(record[name]) is dict]
    if how == "inner" and objects:  # break a nested object the same ways
        name = data.draw(st.sampled_from(objects))
        record[name] = mutate(data, record[name])
    elif how == "type" and names:
        record[data.draw(st.sampled_from(names))] = data.draw(wrong_values)
    elif how == "missing" and names:
        del record[data.draw(st.sampled_from(names))]
    elif how == "extra":
        record[data.draw(keys)] = data.draw(json_values)
    elif how == "reorder":
        record = dict(reversed(record.items()))
    elif how == "long":
        text_fields = [name for name in names if type(record[name]) is str] or ["extra"]
        record[data.draw(st.sampled_from(text_fields))] = data.draw(st.sampled_from(LONG_TEXTS))
    elif how == "deep":
        record["deep"] = _deep(data.draw(st.sampled_from((2, MAX_DEPTH - 2, MAX_DEPTH + 1))))
    elif how == "nested":
        record["meta"] = data.draw(st.dictionaries(keys, json_values, max_size=3))
    elif how == "int key":
        record[1] = "one"
    else:
        return data.draw(
            st.sampled_from(
                (None, 3, "text", [record], Unparsed("{", "invalid JSON"), MappingProxyType(record))
            )
        )
    return record


def batch(data: st.DataObject, resource: str, size: int = 20) -> list[Any]:
    """Draw a page of mostly valid records sharing their keys, some broken in drawn ways.

    Some pages also give every record the same extra field, flat or an object, as real
    sources do.
    """
    records = data.draw(st.lists(valid_record(schema_for(resource).fields), max_size=size))
    shared = data.draw(st.none() | st.tuples(keys, st.dictionaries(keys, scalars) | scalars))
    if shared is not None:
        records = [{**record, shared[0]: shared[1]} for record in records]
    for index in data.draw(st.lists(st.integers(0, max(len(records) - 1, 0)), max_size=4)):
        if records and type(records[index]) is dict:  # a record already replaced stays so
            records[index] = mutate(data, records[index])
    return records

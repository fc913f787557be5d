from __future__ import annotations

import pickle
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.errors import ConfigError, ValidationError
from workbench.processing.schemas import schema_for
from workbench.processing.steps import (
    MAX_DEPTH,
    MAX_TEXT,
    BurnCpu,
    CleanStrings,
    NormaliseEmail,
    StepBase,
    Validate,
    WordCounts,
    canonical_json,
    clean_text,
    clean_value,
    content_checksum,
    step_name,
)


def reference_clean_text(text: str) -> str:
    """``clean_text`` without its shortcut for text that is already clean."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():
        text = unicodedata.normalize(
            "NFC", text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        )
    if "\n" not in text:
        return " ".join(text.split())
    return "\n".join([" ".join(line.split()) for line in text.split("\n")]).strip("\n")


class TestCleanText:
    """The string cleaning rules."""

    def test_collapses_runs_of_spaces_and_tabs(self) -> None:
        """Runs of spaces, tabs and other non-newline whitespace become one space."""
        assert clean_text("a  b\t\tc \t d\u00a0\u00a0e") == "a b c d e"

    def test_strips_the_ends(self) -> None:
        """Leading and trailing whitespace, newlines included, is removed."""
        assert clean_text("\n\t  hello  \n\n") == "hello"

    def test_keeps_newlines_and_strips_each_line(self) -> None:
        """Newlines survive, including blank lines, but each line loses edge whitespace."""
        assert clean_text("one  \n   two\t\n\nthree") == "one\ntwo\n\nthree"

    def test_normalises_crlf_and_cr(self) -> None:
        """Windows and old-Mac line ends both become a single newline."""
        assert clean_text("a\r\nb\rc\r\n") == "a\nb\nc"

    def test_drops_nul(self) -> None:
        """NUL characters, which Postgres refuses, are removed."""
        assert clean_text("a\x00b\x00") == "ab"

    def test_normalises_to_nfc(self) -> None:
        """A decomposed accent is composed (NFC)."""
        decomposed = "cafe\u0301"
        assert clean_text(decomposed) == "caf\u00e9"

    def test_replaces_unpaired_surrogates(self) -> None:
        """A lone surrogate, which UTF-8 cannot encode, becomes U+FFFD."""
        cleaned = clean_text("bad \ud800 char")
        assert cleaned == "bad \ufffd char"
        cleaned.encode("utf-8")

    def test_clean_fixture_text_is_unchanged(
        self, jsonplaceholder: dict[str, list[dict[str, Any]]]
    ) -> None:
        """Already clean real text, multi-line bodies included, comes out identical."""
        for post in jsonplaceholder["posts"]:
            assert clean_text(post["body"]) == post["body"]
            assert clean_text(post["title"]) == post["title"]

    @pytest.mark.parametrize(
        ("text", "cleaned"),
        [
            *[(f"ab{ws}cd", "ab cd") for ws in ("  ", "\t", "\x0b", "\x0c")],
            *[(f"ab{ws}cd", "ab cd") for ws in ("\x1c", "\x1d", "\x1e", "\x1f")],
            ("ab \ncd", "ab\ncd"),
            ("ab\n cd", "ab\ncd"),
            ("ab\rcd", "ab\ncd"),
            ("ab\x00cd", "abcd"),
            ("XY \nYX", "XY\nYX"),
            *[(" abc", "abc"), ("\nabc", "abc"), ("abc ", "abc"), ("abc\n", "abc"), ("", "")],
        ],
    )
    def test_each_ascii_flaw_is_cleaned(self, text: str, cleaned: str) -> None:
        """Each thing that makes ASCII text unclean, alone in otherwise clean text, is cleaned."""
        assert clean_text(text) == cleaned

    @given(st.text(alphabet=st.sampled_from(" \n\t\r\x00\x0b\x0c\x1c\x1f\xa0ab")) | st.text())
    def test_shortcut_for_clean_text_changes_nothing(self, text: str) -> None:
        """Whatever the whitespace, the result is the one of splitting and joining every line."""
        assert clean_text(text) == reference_clean_text(text)

    @given(st.text())
    def test_output_is_clean_and_cleaning_is_idempotent(self, text: str) -> None:
        """Any text cleans to NFC, NUL-free, CR-free text that cleaning leaves unchanged."""
        cleaned = clean_text(text)
        assert "\x00" not in cleaned
        assert "\r" not in cleaned
        assert unicodedata.is_normalized("NFC", cleaned)
        assert cleaned == cleaned.strip()
        assert clean_text(cleaned) == cleaned


def _nest(levels: int, wrap: Callable[[Any, int], Any], leaf: Any) -> Any:
    """Wrap ``leaf`` in ``levels`` containers, ``wrap(value, level)`` adding one."""
    for level in range(levels):
        leaf = wrap(leaf, level)
    return leaf


#: One level of nesting of each kind, and the plain JSON each one cleans into.
NESTINGS: dict[str, tuple[Callable[[Any, int], Any], Callable[[Any, int], Any]]] = {
    "objects": (lambda v, _: {"k": v}, lambda v, _: {"k": v}),
    "mappings": (lambda v, _: MappingProxyType({"k": v}), lambda v, _: {"k": v}),
    "arrays": (lambda v, _: [v], lambda v, _: [v]),
    "tuples": (lambda v, _: (v,), lambda v, _: [v]),
    "objects and arrays": (
        lambda v, level: {"k": v} if level % 2 else [v],
        lambda v, level: {"k": v} if level % 2 else [v],
    ),
}


class TestCleanValue:
    """Cleaning whole records: nesting, keys, mappings and scalars."""

    def test_cleans_nested_values_and_keys(self) -> None:
        """Strings in nested dicts and lists are cleaned, and keys lose NULs and get NFC."""
        raw = {"a\x00": {"cafe\u0301": ["  x  y ", ("z\x00",)]}, "n": 1, "f": None}
        assert clean_value(raw) == {"a": {"caf\u00e9": ["x y", ["z"]]}, "n": 1, "f": None}

    def test_keys_keep_their_whitespace(self) -> None:
        """Key spelling belongs to the schema, so whitespace in keys is left alone."""
        assert clean_value({" odd  key ": 1}) == {" odd  key ": 1}

    def test_does_not_modify_its_input(self) -> None:
        """The caller's nested data is left untouched."""
        raw = {"a": {"b": " x "}, "l": [" y "]}
        clean_value(raw)
        assert raw == {"a": {"b": " x "}, "l": [" y "]}

    def test_turns_any_mapping_into_a_dict(self) -> None:
        """A read-only Mapping is cleaned into a plain dict."""
        cleaned = clean_value(MappingProxyType({"k": " v "}))
        assert type(cleaned) is dict
        assert cleaned == {"k": "v"}

    @pytest.mark.parametrize("kind", sorted(NESTINGS))
    def test_nesting_is_bounded_at_max_depth(self, kind: str) -> None:
        """Every container counts one level: MAX_DEPTH levels are cleaned, one more is refused."""
        wrap, plain = NESTINGS[kind]
        cleaned = clean_value(_nest(MAX_DEPTH, wrap, " x "))
        assert cleaned == _nest(MAX_DEPTH, plain, "x")
        with pytest.raises(ValidationError, match=rf"^nested deeper than {MAX_DEPTH} levels$"):
            clean_value(_nest(MAX_DEPTH + 1, wrap, "x"))

    def test_a_field_longer_than_max_text_is_refused_by_name(self) -> None:
        """A text field over MAX_TEXT characters is a schema break naming the field."""
        text = "a" * (MAX_TEXT + 1)
        message = rf"^field 'body' is {MAX_TEXT + 1:,} characters long: at most {MAX_TEXT:,}$"
        with pytest.raises(ValidationError, match=message):
            clean_value({"id": 1, "body": text})
        with pytest.raises(ValidationError, match=r"^a text value is "):
            clean_value({"tags": [text]})

    def test_a_text_of_exactly_max_text_is_kept(self) -> None:
        """A text of exactly MAX_TEXT characters is allowed, in a field or in an array."""
        text = "a" * MAX_TEXT
        assert clean_value({"body": text, "tags": [text]}) == {"body": text, "tags": [text]}

    def test_keys_that_are_not_text_are_kept(self) -> None:
        """A dict from Python code with non-text keys keeps them; only the values are cleaned."""
        assert clean_value({1: " a ", None: "b"}) == {1: "a", None: "b"}

    def test_a_str_subclass_is_cleaned_into_plain_text(self) -> None:
        """A value of a str subclass is cleaned like any text and comes back a plain str."""

        class Label(str):
            """A str subclass, as a caller's enum-like type would be."""

        cleaned = clean_value({"tags": [Label("  a \t b ")]})
        assert cleaned == {"tags": ["a b"]}
        assert type(cleaned["tags"][0]) is str

    def test_scalars_pass_through(self) -> None:
        """Numbers, bools and null are returned as they are."""
        for value in (0, -3, 1.5, True, False, None):
            assert clean_value(value) is value


class TestChecksum:
    """Canonical JSON and the content digest."""

    def test_canonical_json_is_sorted_and_compact(self) -> None:
        """Keys are sorted at every depth, separators compact and non-ASCII kept."""
        assert canonical_json({"b": 1, "a": {"d": "é", "c": [1, 2]}}) == (
            '{"a":{"c":[1,2],"d":"é"},"b":1}'
        )

    def test_key_order_does_not_matter(self) -> None:
        """The same content in another key order has the same checksum."""
        assert content_checksum({"a": 1, "b": {"x": 1, "y": 2}}) == content_checksum(
            {"b": {"y": 2, "x": 1}, "a": 1}
        )

    def test_content_change_changes_checksum(self) -> None:
        """Changing any value, even nested, changes the checksum."""
        assert content_checksum({"a": {"b": 1}}) != content_checksum({"a": {"b": 2}})

    def test_checksum_is_32_hex_digits(self) -> None:
        """The digest is a 128-bit BLAKE2b written as 32 lowercase hex digits."""
        digest = content_checksum({"id": 1})
        assert len(digest) == 32
        assert int(digest, 16) >= 0
        assert digest == digest.lower()

    def test_checksum_is_the_same_in_another_interpreter(self) -> None:
        """A fresh interpreter with another hash seed computes the same digest."""
        code = (
            "from workbench.processing.steps import content_checksum;"
            "print(content_checksum({'b': 'é', 'a': [1, {'z': None}]}))"
        )
        other = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": "12345"},
        )
        assert other.stdout.strip() == content_checksum({"a": [1, {"z": None}], "b": "é"})

    def test_nan_cannot_be_checksummed(self) -> None:
        """NaN is not JSON, so canonical serialisation refuses it."""
        with pytest.raises(ValueError):
            content_checksum({"x": float("nan")})


class TestEnrichmentSteps:
    """Word counts and email normalisation."""

    def test_word_counts_for_title_and_body(self) -> None:
        """Title and body get whitespace-separated word counts; other fields do not."""
        data = {"title": "two words", "body": "one\ntwo  three", "name": "a b"}
        assert WordCounts()(data) == {**data, "title_words": 2, "body_words": 3}

    def test_word_counts_skip_missing_and_non_text(self) -> None:
        """Absent or non-string fields get no count."""
        assert WordCounts()({"title": 5}) == {"title": 5}

    def test_email_is_lowercased_with_domain(self) -> None:
        """The email is lowercased and its domain added."""
        data = NormaliseEmail()({"email": "Eliseo@Gardner.BIZ"})
        assert data == {"email": "eliseo@gardner.biz", "email_domain": "gardner.biz"}

    @pytest.mark.parametrize("email", ["no-at-sign", "@nolocal", "nodomain@"])
    def test_email_without_both_parts_has_no_domain(self, email: str) -> None:
        """An address without a local part, an @ and a domain gets a null domain."""
        assert NormaliseEmail()({"email": email})["email_domain"] is None

    def test_the_domain_follows_the_last_at(self) -> None:
        """With several @ signs, the domain is what follows the last one."""
        assert NormaliseEmail()({"email": "A@b@Ex.COM"}) == {
            "email": "a@b@ex.com",
            "email_domain": "ex.com",
        }

    def test_email_step_ignores_records_without_email(self) -> None:
        """A record without an email is returned as it was."""
        assert NormaliseEmail()({"id": 1}) == {"id": 1}


class TestBurnCpu:
    """The deterministic CPU-burning benchmark step."""

    def test_work_is_deterministic(self) -> None:
        """The same seed and iterations always give the same result."""
        assert BurnCpu(5_000).work(42) == BurnCpu(5_000).work(42)

    def test_work_depends_on_seed_and_iterations(self) -> None:
        """Another seed or iteration count gives another result, a zero seed included."""
        results = {BurnCpu(1_000).work(1), BurnCpu(1_000).work(2), BurnCpu(1_001).work(1)}
        assert len(results) == 3
        assert BurnCpu(10).work(0) != 0

    def test_zero_iterations_return_the_seed(self) -> None:
        """With no iterations there is no work and the seed comes back."""
        assert BurnCpu(0).work(7) == 7

    def test_record_passes_through_unchanged(self) -> None:
        """Burning CPU never alters the record."""
        data = {"id": 3, "title": "x"}
        assert BurnCpu(100)(data) == {"id": 3, "title": "x"}

    @pytest.mark.parametrize("iterations", [-1, 1.5, "10"])
    def test_bad_iterations_are_a_config_error(self, iterations: Any) -> None:
        """Negative or non-int iterations are refused as a bad setting that shows the value."""
        message = rf"^BurnCpu iterations must be an int >= 0, got {re.escape(repr(iterations))}$"
        with pytest.raises(ConfigError, match=message):
            BurnCpu(iterations)


class TestStepObjects:
    """Steps as values: pickling, equality, naming and the validate step."""

    @pytest.mark.parametrize(
        "step",
        [
            CleanStrings(),
            Validate(schema_for("users")),
            WordCounts(("name",)),
            NormaliseEmail("contact"),
            BurnCpu(3),
        ],
    )
    def test_steps_pickle_to_equal_steps(self, step: object) -> None:
        """Every step survives a pickle round trip as an equal, equally hashed step."""
        copy = pickle.loads(pickle.dumps(step))
        assert copy == step
        assert hash(copy) == hash(step)
        assert repr(copy) == repr(step)

    def test_word_counts_shows_only_its_fields(self) -> None:
        """WordCounts is shown, compared and hashed by its fields, as before it kept names."""
        assert repr(WordCounts()) == "WordCounts(('title', 'body'))"
        assert WordCounts(["title"]) == WordCounts(("title",))
        assert WordCounts()({"title": "a b", "body": "c"}) == {
            "title": "a b",
            "body": "c",
            "title_words": 2,
            "body_words": 1,
        }

    def test_steps_with_other_settings_differ(self) -> None:
        """Equality looks at the settings, not just the class."""
        assert WordCounts(("title",)) != WordCounts(("body",))
        assert BurnCpu(1) != BurnCpu(2)

    def test_validate_step_raises_validation_error(self) -> None:
        """The validate step raises the schema's error and returns valid data itself."""
        step = Validate(schema_for("albums"))
        data = {"userId": 1, "id": 1, "title": "t"}
        assert step(data) is data
        with pytest.raises(ValidationError):
            step({"id": 1})

    def test_step_name_reads_labels_functions_and_objects(self) -> None:
        """A reject names a label as is, a function by name and an object by class."""
        assert step_name("checksum") == "checksum"
        assert step_name(clean_text) == "clean_text"
        assert step_name(WordCounts()) == "WordCounts"


class Tagged(StepBase):
    """A step of two arguments, as a user would write one on ``StepBase``."""

    __slots__ = ("field", "tag")

    def __init__(self, field: str, tag: str) -> None:
        self.field, self.tag = field, tag

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        """Set the field to the tag."""
        record[self.field] = self.tag
        return record


class Untagged(StepBase):
    """A step without arguments, like ``CleanStrings`` but another type."""

    __slots__ = ()

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        """Pass the record on unchanged."""
        return record


class TestStepBase:
    """What StepBase gives a user's own step: repr, equality and hash from its slots."""

    def test_repr_lists_every_argument(self) -> None:
        """The repr shows the type and each slot's value, separated like a call's arguments."""
        assert repr(Tagged("kind", "post")) == "Tagged('kind', 'post')"

    def test_hash_follows_the_type_and_the_arguments(self) -> None:
        """Steps that differ in type or arguments hash apart, so sets and dicts stay fast."""
        assert hash(Tagged("kind", "post")) == hash(Tagged("kind", "post"))
        assert hash(Tagged("kind", "post")) != hash(Tagged("kind", "todo"))
        assert hash(Untagged()) != hash(CleanStrings())
        assert Untagged() != CleanStrings()

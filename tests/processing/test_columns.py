from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.processing.strategies import LONG_TEXTS, texts
from workbench.processing import NormaliseEmail, clean_text
from workbench.processing.columns import (
    KINDS,
    OTHER,
    clean_texts,
    emails,
    kinds,
    lengths,
    needs_cleaning,
    word_counts,
)

pages = st.lists(texts, max_size=12)


def column(values: list[str]) -> pd.Series:
    """Return texts as the object column the processor hands these functions."""
    return pd.Series(values, dtype=object)


class TestCleanTexts:
    """A column is cleaned exactly as ``clean_text`` cleans each of its texts."""

    @given(pages)
    def test_every_text_is_cleaned_as_clean_text_cleans_it(self, page: list[str]) -> None:
        """Whatever the texts, the column's result is clean_text of each, in order."""
        assert clean_texts(column(page)).tolist() == [clean_text(text) for text in page]

    def test_each_rule_on_its_own(self) -> None:
        """NULs, CR/CRLF, surrogates, NFC, blank runs, line edges and ends, one text each."""
        page = [
            "a\x00b",
            "a\r\nb\rc",
            "x \ud83d\ude00 \ud800",
            "cafe\u0301",
            "a \t\u00a0\u3000 b",
            " one \n\t two \n",
            "\n\n a \n\n\n b \n",
        ]
        expected = [
            "ab",
            "a\nb\nc",
            "x \U0001f600 \ufffd",
            "caf\u00e9",
            "a b",
            "one\ntwo",
            "a\n\n\nb",
        ]
        assert clean_texts(column(page)).tolist() == expected

    def test_long_texts_are_cleaned_too(self) -> None:
        """Texts of the length limit, full of whitespace, clean as clean_text cleans them."""
        assert clean_texts(column(list(LONG_TEXTS))).tolist() == list(map(clean_text, LONG_TEXTS))


class TestNeedsCleaning:
    """The page scan marks every text cleaning would change, and clean ones stay unmarked."""

    @given(pages)
    def test_no_text_cleaning_changes_is_missed(self, page: list[str]) -> None:
        """Every text whose cleaned form differs from it is marked."""
        marked = needs_cleaning(page)
        assert len(marked) == len(page)
        assert all(marked[i] for i, text in enumerate(page) if clean_text(text) != text)

    @given(st.lists(texts.map(clean_text).filter(str.isascii), max_size=12))
    def test_clean_ascii_texts_are_left_alone(self, page: list[str]) -> None:
        """Texts already clean and ASCII are not marked (the whole point of the scan)."""
        page = [text for text in page if "\x01" not in text]
        assert not needs_cleaning(page).any()

    def test_edges_are_found_at_either_end_of_any_text(self) -> None:
        """A leading or trailing space or newline marks that text and no neighbour."""
        page = ["ok", " lead", "ok", "trail\n", "ok", "\nboth ", "", "ok"]
        assert needs_cleaning(page).tolist() == [
            False,
            True,
            False,
            True,
            False,
            True,
            False,
            False,
        ]

    def test_a_page_of_dirty_texts_marks_each(self) -> None:
        """When every text has the same fault, every one is marked."""
        assert needs_cleaning(["a\tb"] * 50).all()


class TestWordCounts:
    """Word counts match ``len(text.split())``."""

    @given(pages)
    def test_counts_are_those_of_split(self, page: list[str]) -> None:
        """Each text's count is the number of whitespace-separated words in it."""
        assert word_counts(column(page)).tolist() == [len(text.split()) for text in page]


class TestEmails:
    """Addresses are lowercased and their domains found as ``NormaliseEmail`` does."""

    @given(pages)
    def test_emails_match_the_step(self, page: list[str]) -> None:
        """Lowercased addresses and domains (None without all three parts) match the step."""
        lowered, domains = emails(column(page))
        expected = [NormaliseEmail()({"email": text}) for text in page]
        assert lowered.tolist() == [data["email"] for data in expected]
        assert domains.tolist() == [data["email_domain"] for data in expected]


class IntLike(int):
    """An int subclass, which the per-record processor converts and columns do not vouch for."""


class TestKinds:
    """Each value's exact type is named; anything else is OTHER."""

    def test_exact_types_are_named_and_others_are_not(self) -> None:
        """Bool is not an int, and lists, dicts, subclasses and numpy scalars are OTHER."""
        values: list[Any] = ["a", 1, True, None, 1.5, [1], {}, IntLike(2), np.int64(3)]
        assert kinds(values).tolist() == [*range(len(KINDS)), OTHER, OTHER, OTHER, OTHER]

    @given(st.lists(texts, max_size=12))
    def test_lengths_are_those_of_len(self, page: list[str]) -> None:
        """Each text's length is its len."""
        assert lengths(page).tolist() == [len(text) for text in page]


class TestNormalForm:
    """What the column cleaning gives is as clean as clean_text's."""

    @settings(max_examples=50)
    @given(pages)
    def test_output_is_nfc_and_stable(self, page: list[str]) -> None:
        """Cleaned texts are NFC and cleaning them again changes nothing."""
        cleaned = clean_texts(column(page)).tolist()
        assert all(unicodedata.is_normalized("NFC", text) for text in cleaned)
        assert clean_texts(column(cleaned)).tolist() == cleaned

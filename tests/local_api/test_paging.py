from __future__ import annotations

import pytest
from yarl import URL

from workbench.local_api.paging import PagingError, Window, link_header

BASE = URL("http://h:1/posts")


class TestWindowFromQuery:
    """Reading json-server's paging parameters."""

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"_page": "3"}, Window(20, 30, 10, "page")),
            ({"_page": "2", "_limit": "25"}, Window(25, 50, 25, "page")),
            ({"_page": "2", "_start": "7", "_end": "9"}, Window(10, 20, 10, "page")),
            ({"_start": "5", "_end": "8"}, Window(5, 8, 3, "range")),
            ({"_end": "4"}, Window(0, 4, 4, "range")),
            ({"_start": "5", "_end": "8", "_limit": "50"}, Window(5, 8, 3, "range")),
            ({"_start": "5", "_limit": "4"}, Window(5, 9, 4, "limit")),
            ({"_limit": "0"}, Window(0, 0, 0, "limit")),
            ({"_start": "5"}, Window(5, None, 0, "open")),
        ],
    )
    def test_windows(self, query: dict[str, str], expected: Window) -> None:
        """``_page`` wins over ``_end``, which wins over ``_limit``; ``_page`` defaults to 10."""
        assert Window.from_query(query) == expected

    def test_no_paging_is_none(self) -> None:
        """Without paging parameters the whole list is wanted."""
        assert Window.from_query({"userId": "1"}) is None

    @pytest.mark.parametrize(
        "query",
        [
            {"_page": "abc"},
            {"_page": "0"},
            {"_page": "-1"},
            {"_limit": "-5"},
            {"_start": "1.5"},
            {"_end": " 3"},
            {"_page": "1", "_limit": "0"},
        ],
    )
    def test_bad_values_are_paging_errors(self, query: dict[str, str]) -> None:
        """Non-integers, negatives, page 0 and an empty page size are refused, naming the value."""
        with pytest.raises(PagingError, match=next(iter(query.values())).strip()):
            Window.from_query(query)


class TestNeighbours:
    """Which first/prev/next/last windows exist, as json-server decides."""

    def test_first_middle_and_last_pages(self) -> None:
        """The first page has no prev, the last no next; both have first and last."""
        assert Window(0, 10, 10, "page").neighbours(35) == [
            ("first", 0),
            ("next", 10),
            ("last", 30),
        ]
        assert Window(10, 20, 10, "page").neighbours(35) == [
            ("first", 0),
            ("prev", 0),
            ("next", 20),
            ("last", 30),
        ]
        assert Window(30, 40, 10, "page").neighbours(35) == [
            ("first", 0),
            ("prev", 20),
            ("last", 30),
        ]

    def test_no_links_for_a_single_or_empty_page(self) -> None:
        """A page holding everything, or past the end, has no links."""
        assert Window(0, 10, 10, "page").neighbours(7) == []
        assert Window(40, 50, 10, "page").neighbours(35) == []
        assert Window(5, None, 0, "open").neighbours(35) == []

    def test_unaligned_offsets_step_by_the_window(self) -> None:
        """Offset windows step by their size; prev stops at 0, last is on the same stride."""
        assert Window(5, 8, 3, "range").neighbours(10) == [
            ("first", 0),
            ("prev", 2),
            ("next", 8),
            ("last", 8),
        ]

    @pytest.mark.parametrize(
        ("window", "params"),
        [
            (Window(0, 10, 10, "page"), {"_page": "3"}),
            (Window(0, 10, 10, "range"), {"_start": "20", "_end": "30"}),
            (Window(0, 10, 10, "limit"), {"_start": "20"}),
        ],
    )
    def test_params_select_the_window(self, window: Window, params: dict[str, str]) -> None:
        """Each style expresses a window with its own parameters."""
        assert window.params_at(20) == params


class TestLinkHeader:
    """The ``Link`` header's exact text."""

    def test_keeps_other_parameters_in_order(self) -> None:
        """Links change only the paging values and keep other parameters where they were."""
        query = [("userId", "1"), ("_page", "2"), ("_limit", "3"), ("title", "a b")]
        header = link_header(BASE, query, Window(3, 6, 3, "page"), 7)
        assert header == (
            '<http://h:1/posts?userId=1&_page=1&_limit=3&title=a+b>; rel="first", '
            '<http://h:1/posts?userId=1&_page=1&_limit=3&title=a+b>; rel="prev", '
            '<http://h:1/posts?userId=1&_page=3&_limit=3&title=a+b>; rel="next", '
            '<http://h:1/posts?userId=1&_page=3&_limit=3&title=a+b>; rel="last"'
        )

    def test_adds_missing_paging_parameters(self) -> None:
        """A window given by ``_end`` alone gains ``_start`` in its links."""
        header = link_header(BASE, [("_end", "2")], Window(0, 2, 2, "range"), 3)
        assert header == (
            '<http://h:1/posts?_end=2&_start=0>; rel="first", '
            '<http://h:1/posts?_end=4&_start=2>; rel="next", '
            '<http://h:1/posts?_end=4&_start=2>; rel="last"'
        )

    def test_other_parameters_are_encoded_as_the_url_encodes_them(self) -> None:
        """Reserved, non-ASCII and non-numeric values come out as ``URL.with_query`` writes them."""
        query = [("q", "a&b=c d"), ("_page", "2"), ("name", "é+%/?#"), ("_start", "x y")]
        header = link_header(BASE, query, Window(10, 20, 10, "page"), 35)
        next_page = [("q", "a&b=c d"), ("_page", "3"), ("name", "é+%/?#"), ("_start", "x y")]
        assert f'<{BASE.with_query(next_page)}>; rel="next"' in header.split(", ")

    def test_empty_without_neighbours(self) -> None:
        """No neighbours, no header text."""
        assert link_header(BASE, [("_page", "1")], Window(0, 10, 10, "page"), 3) == ""

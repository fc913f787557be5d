from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from workbench.local_api import Dataset, ServerHandle, serve_in_thread
from workbench.local_api.handlers import BODIES

JSON_TYPE = "application/json; charset=utf-8"


def get(handle: ServerHandle, path: str) -> requests.Response:
    """GET ``path`` from the server."""
    return requests.get(handle.url + path, timeout=10)


def ids(response: requests.Response) -> list[int]:
    """Return the ids of the records in a list answer."""
    assert response.status_code == 200, response.text
    return [record["id"] for record in response.json()]


def links(handle: ServerHandle, **targets: str) -> str:
    """Build the expected ``Link`` header from rel -> path-and-query."""
    return ", ".join(f'<{handle.url}{path}>; rel="{rel}"' for rel, path in targets.items())


@pytest.fixture(scope="module")
def big_source() -> Iterator[ServerHandle]:
    """A server at scale 1000: 100,000 posts, five million photos."""
    with serve_in_thread(seed=3, scale=1000) as handle:
        yield handle


class TestRecords:
    """Single records and whole lists."""

    def test_record_is_the_datasets(self, source: ServerHandle) -> None:
        """``/posts/1`` is record 1 of the data set for the server's seed, as JSON."""
        response = get(source, "/posts/1")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == JSON_TYPE
        assert response.json() == Dataset(seed=source.dataset.seed).get("posts", 1)

    @pytest.mark.parametrize("path", ["/posts/101", "/posts/0", "/posts/abc", "/nope", "/a/b/c/d"])
    def test_missing_is_404_with_empty_object(self, source: ServerHandle, path: str) -> None:
        """A missing record or unknown path is 404 with ``{}``, like json-server."""
        response = get(source, path)
        assert (response.status_code, response.json()) == (404, {})
        assert response.headers["Content-Type"] == JSON_TYPE

    def test_whole_list_without_paging(self, source: ServerHandle) -> None:
        """Without paging parameters the whole list comes back, with no total header."""
        response = get(source, "/users")
        assert ids(response) == list(range(1, 11))
        assert "X-Total-Count" not in response.headers
        assert response.json() == Dataset(seed=source.dataset.seed).slice("users", 0, 10)

    def test_long_lists_stream_complete(self, source: ServerHandle) -> None:
        """A list longer than one chunk (5000 photos) arrives whole and valid."""
        response = get(source, "/photos")
        assert response.headers["Content-Type"] == JSON_TYPE
        assert ids(response) == list(range(1, 5001))


class TestBodyCache:
    """Pages built once and sent again from memory."""

    def test_a_page_asked_again_is_the_same_bytes_without_rebuilding(
        self, source: ServerHandle
    ) -> None:
        """The second request for a page gets identical bytes from the server's body cache."""
        bodies = source._app[BODIES]
        hits = bodies.hits
        first = get(source, "/comments?_page=3&_limit=7")
        second = get(source, "/comments?_page=3&_limit=7")
        assert second.content == first.content
        assert second.json() == Dataset(seed=source.dataset.seed).slice("comments", 14, 21)
        assert bodies.hits == hits + 1

    def test_filtered_lists_are_not_kept(self, source: ServerHandle) -> None:
        """A list filtered by another field is built each time (its ids are not a range)."""
        bodies = source._app[BODIES]
        kept = len(bodies)
        assert ids(get(source, "/todos?completed=true")) == ids(
            get(source, "/todos?completed=true")
        )
        assert len(bodies) == kept


class TestRelationsAndFilters:
    """Nested routes and query filters."""

    @pytest.mark.parametrize(
        ("path", "key", "expected"),
        [
            ("/posts/2/comments", "postId", range(6, 11)),
            ("/users/1/posts", "userId", range(1, 11)),
            ("/users/2/albums", "userId", range(11, 21)),
            ("/users/3/todos", "userId", range(41, 61)),
            ("/albums/1/photos", "albumId", range(1, 51)),
        ],
    )
    def test_nested_routes(
        self, source: ServerHandle, path: str, key: str, expected: range
    ) -> None:
        """``/parent/id/children`` lists exactly that parent's children."""
        response = get(source, path)
        assert ids(response) == list(expected)
        parent_id = int(path.split("/")[2])
        assert {record[key] for record in response.json()} == {parent_id}

    def test_unrelated_nesting_is_404(self, source: ServerHandle) -> None:
        """Resources that are not parent and child do not nest."""
        assert get(source, "/users/1/comments").status_code == 404

    def test_children_of_a_missing_parent_are_empty(self, source: ServerHandle) -> None:
        """As in json-server, a missing parent simply has no children."""
        assert ids(get(source, "/posts/999/comments")) == []

    def test_filters(self, source: ServerHandle) -> None:
        """Parent-key, id and scanned filters all apply, combined."""
        dataset = source.dataset
        done = [t["id"] for t in dataset.slice("todos", 20, 40) if t["completed"]]
        assert ids(get(source, "/todos?userId=2&completed=true")) == done
        assert ids(get(source, "/posts?id=3&id=5")) == [3, 5]
        assert ids(get(source, "/posts?userId=1&userId=10")) == [*range(1, 11), *range(91, 101)]
        assert ids(get(source, "/posts?userId=1&notAField=1")) == []


class TestPagePaging:
    """``_page`` and ``_limit``: totals and links at the first, a middle and the last page."""

    def test_first_page(self, source: ServerHandle) -> None:
        """Page 1 links to first, next and last."""
        response = get(source, "/posts?_page=1&_limit=10")
        assert ids(response) == list(range(1, 11))
        assert response.headers["X-Total-Count"] == "100"
        assert response.headers["Link"] == links(
            source,
            first="/posts?_page=1&_limit=10",
            next="/posts?_page=2&_limit=10",
            last="/posts?_page=10&_limit=10",
        )

    def test_middle_page(self, source: ServerHandle) -> None:
        """A middle page links to first, prev, next and last."""
        response = get(source, "/posts?_page=5&_limit=10")
        assert ids(response) == list(range(41, 51))
        assert response.headers["Link"] == links(
            source,
            first="/posts?_page=1&_limit=10",
            prev="/posts?_page=4&_limit=10",
            next="/posts?_page=6&_limit=10",
            last="/posts?_page=10&_limit=10",
        )

    def test_last_page_of_a_filtered_list(self, source: ServerHandle) -> None:
        """The last page has no next; totals and links count the filtered list."""
        response = get(source, "/comments?postId=3&_page=3&_limit=2")
        assert ids(response) == [15]
        assert response.headers["X-Total-Count"] == "5"
        assert response.headers["Link"] == links(
            source,
            first="/comments?postId=3&_page=1&_limit=2",
            prev="/comments?postId=3&_page=2&_limit=2",
            last="/comments?postId=3&_page=3&_limit=2",
        )

    def test_page_alone_means_ten(self, source: ServerHandle) -> None:
        """``_page`` without ``_limit`` pages by 10, and its links keep the query as given."""
        response = get(source, "/users/1/todos?_page=2")
        assert ids(response) == list(range(11, 21))
        assert response.headers["X-Total-Count"] == "20"
        assert response.headers["Link"] == links(
            source,
            first="/users/1/todos?_page=1",
            prev="/users/1/todos?_page=1",
            last="/users/1/todos?_page=2",
        )

    def test_past_the_end(self, source: ServerHandle) -> None:
        """A page past the end is empty, still totals, and has no links."""
        response = get(source, "/posts?_page=11&_limit=10")
        assert ids(response) == []
        assert response.headers["X-Total-Count"] == "100"
        assert "Link" not in response.headers

    def test_fault_parameters_stay_out_of_links(self, source: ServerHandle) -> None:
        """Fault overrides are neither filters nor repeated in the links."""
        response = get(source, "/posts?_latency_ms=0&_page=10&_error_rate=0&_limit=10")
        assert ids(response) == list(range(91, 101))
        assert response.headers["Link"] == links(
            source,
            first="/posts?_page=1&_limit=10",
            prev="/posts?_page=9&_limit=10",
            last="/posts?_page=10&_limit=10",
        )


class TestOffsetPaging:
    """``_start`` with ``_end`` or ``_limit``."""

    @pytest.mark.parametrize(
        ("start", "expected_rels"),
        [
            (0, {"first": 0, "next": 25, "last": 75}),
            (50, {"first": 0, "prev": 25, "next": 75, "last": 75}),
            (75, {"first": 0, "prev": 50, "last": 75}),
        ],
    )
    def test_start_and_end(self, source: ServerHandle, start: int, expected_rels: dict) -> None:
        """``_start``/``_end`` windows total the list and link windows of the same width."""
        response = get(source, f"/posts?_start={start}&_end={start + 25}")
        assert ids(response) == list(range(start + 1, start + 26))
        assert response.headers["X-Total-Count"] == "100"
        targets = {rel: f"/posts?_start={s}&_end={s + 25}" for rel, s in expected_rels.items()}
        assert response.headers["Link"] == links(source, **targets)

    def test_start_and_limit(self, source: ServerHandle) -> None:
        """``_start``/``_limit`` windows link by moving ``_start``."""
        response = get(source, "/posts?_start=10&_limit=30")
        assert ids(response) == list(range(11, 41))
        assert response.headers["Link"] == links(
            source,
            first="/posts?_start=0&_limit=30",
            prev="/posts?_start=0&_limit=30",
            next="/posts?_start=40&_limit=30",
            last="/posts?_start=70&_limit=30",
        )

    def test_limit_zero_gives_only_the_total(self, source: ServerHandle) -> None:
        """``_limit=0`` answers ``[]`` with the total: a cheap way to count."""
        response = get(source, "/comments?_limit=0")
        assert ids(response) == []
        assert response.headers["X-Total-Count"] == "500"


class TestBadRequests:
    """Parameters the server refuses with a JSON 400."""

    @pytest.mark.parametrize(
        ("query", "names"),
        [
            ("_page=abc", "_page"),
            ("_page=-1", "_page"),
            ("_limit=-3", "_limit"),
            ("_start=x&_end=3", "_start"),
            ("_sort=title", "_sort"),
            ("_error_rate=2", "_error_rate"),
        ],
    )
    def test_400_names_the_parameter(self, source: ServerHandle, query: str, names: str) -> None:
        """A bad or unsupported parameter is a 400 whose JSON error names it."""
        response = get(source, f"/posts?{query}")
        assert response.status_code == 400
        assert response.headers["Content-Type"] == JSON_TYPE
        assert names in response.json()["error"]


class TestLargeScale:
    """Serving 100,000 posts costs only the page asked for."""

    def test_a_deep_page(self, big_source: ServerHandle) -> None:
        """A page deep in 100,000 posts comes back with the full total and last link."""
        response = get(big_source, "/posts?_page=5000&_limit=20")
        assert ids(response) == list(range(99_981, 100_001))
        assert response.headers["X-Total-Count"] == "100000"
        assert response.headers["Link"].endswith(
            f'<{big_source.url}/posts?_page=5000&_limit=20>; rel="last"'
        )

    def test_children_among_millions(self, big_source: ServerHandle) -> None:
        """The last album's photos are found among five million without scanning."""
        response = get(big_source, "/albums/100000/photos?_page=1&_limit=5")
        assert ids(response) == list(range(4_999_951, 4_999_956))
        assert response.headers["X-Total-Count"] == "50"

    def test_records_served_counts_pages(self, big_source: ServerHandle) -> None:
        """The counters record the records of the pages sent, not the resource size."""
        big_source.reset_stats()
        get(big_source, "/comments?_page=3&_limit=7")
        stats: dict[str, Any] = big_source.stats()
        assert stats["records_served"] == 7
        assert stats["by_resource"] == {"comments": 1}

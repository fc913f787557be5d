from __future__ import annotations

import pytest

from workbench.errors import ConfigError
from workbench.local_api.data import Dataset, check_scale, parse_id


class TestCounts:
    """How many records each resource has, at any scale."""

    def test_scale_one_has_the_real_counts(self, real_data: dict) -> None:
        """At scale 1 every resource has exactly as many records as JSONPlaceholder."""
        dataset = Dataset()
        assert {r: dataset.count(r) for r in dataset.resources} == {
            r: len(records) for r, records in real_data.items()
        }

    @pytest.mark.parametrize(
        ("scale", "posts", "photos"), [(0.5, 50, 2500), (1000, 100_000, 5_000_000)]
    )
    def test_scale_multiplies_the_counts(self, scale: float, posts: int, photos: int) -> None:
        """``scale`` multiplies every count, fractional or large."""
        dataset = Dataset(scale=scale)
        assert (dataset.count("posts"), dataset.count("photos")) == (posts, photos)

    def test_tiny_scale_keeps_one_user(self) -> None:
        """A scale too small for one user still yields one user and its children."""
        dataset = Dataset(scale=0.001)
        assert (dataset.count("users"), dataset.count("comments")) == (1, 50)

    @pytest.mark.parametrize("scale", [0, -1, float("nan"), float("inf"), True, "2"])
    def test_bad_scale_is_a_config_error(self, scale: object) -> None:
        """A scale that is not a finite positive number raises ConfigError naming it."""
        with pytest.raises(ConfigError, match="scale"):
            Dataset(scale=scale)  # type: ignore[arg-type]

    def test_check_scale_names_the_label(self) -> None:
        """``check_scale`` puts the caller's label (a flag) in its message."""
        with pytest.raises(ConfigError, match=r"^--scale 0: expected"):
            check_scale(0, label="--scale")

    def test_unknown_resource_is_a_key_error(self) -> None:
        """Asking for a resource JSONPlaceholder does not have raises KeyError."""
        with pytest.raises(KeyError, match="nope"):
            Dataset().count("nope")


class TestRecords:
    """Reading records: deterministic, 1-based, independent of access order."""

    def test_same_seed_same_records(self) -> None:
        """Two data sets with one seed produce identical records."""
        assert Dataset(seed=3).slice("users", 0, 10) == Dataset(seed=3).slice("users", 0, 10)

    def test_different_seed_different_records(self) -> None:
        """Another seed produces other records with the same ids."""
        a, b = Dataset(seed=3).get("posts", 1), Dataset(seed=4).get("posts", 1)
        assert a is not None and b is not None
        assert a["id"] == b["id"]
        assert a != b

    def test_records_do_not_depend_on_access_order(self) -> None:
        """Record i is the same whether read alone, in a slice or after others."""
        dataset = Dataset(seed=5, scale=10)
        alone = dataset.get("comments", 4321)
        dataset.slice("comments", 0, 50)
        assert dataset.slice("comments", 4320, 4321) == [alone]

    def test_ids_are_one_based_and_bounded(self) -> None:
        """Ids run from 1 to the count; others are None."""
        dataset = Dataset()
        assert [dataset.get("todos", i) is None for i in (0, 1, 200, 201)] == [
            True,
            False,
            False,
            True,
        ]

    def test_children_belong_to_existing_parents(self) -> None:
        """Every child's parent id exists, at a fractional scale too."""
        dataset = Dataset(scale=0.3)
        last_comment = dataset.get("comments", dataset.count("comments"))
        assert last_comment is not None
        assert last_comment["postId"] == dataset.count("posts")

    def test_slice_is_python_slicing_over_positions(self) -> None:
        """``slice`` takes 0-based positions with Python's slice rules."""
        dataset = Dataset()
        assert [p["id"] for p in dataset.slice("posts", 98, 500)] == [99, 100]
        assert [p["id"] for p in dataset.slice("posts", -2, None)] == [99, 100]  # type: ignore[arg-type]

    def test_records_skips_missing_ids(self) -> None:
        """``records`` yields the existing ids in the order asked."""
        records = Dataset().records("albums", [3, 0, 101, 1])
        assert [a["id"] for a in records] == [3, 1]


class TestFilter:
    """Equality filters, arithmetic for ids and parent keys, scanned otherwise."""

    def test_parent_key_is_an_id_range(self) -> None:
        """A parent-key filter is answered as a range, even among five million photos."""
        ids = Dataset(scale=1000).filter("photos", {"albumId": "99999"})
        assert ids == range(4_999_901, 4_999_951)

    def test_several_parents_are_a_union(self) -> None:
        """Several values of one key match any of them, ascending."""
        ids = Dataset().filter("posts", {"userId": ["3", "1"]})
        assert list(ids) == [*range(1, 11), *range(21, 31)]

    def test_id_and_parent_intersect(self) -> None:
        """``id`` and the parent key narrow each other."""
        dataset = Dataset()
        assert list(dataset.filter("comments", {"postId": "2", "id": ["3", "7", "9"]})) == [7, 9]
        assert list(dataset.filter("comments", {"postId": "2", "id": "3"})) == []

    def test_other_fields_are_scanned(self) -> None:
        """Any other field filters by scanning, comparing as json-server does (``true``)."""
        dataset = Dataset()
        ids = dataset.filter("todos", {"userId": "1", "completed": "true"})
        expected = [t["id"] for t in dataset.slice("todos", 0, 20) if t["completed"] is True]
        assert list(ids) == expected
        assert 0 < len(expected) < 20

    def test_nested_fields_use_dotted_paths(self) -> None:
        """``address.city`` reaches into nested objects."""
        dataset = Dataset()
        user = dataset.get("users", 4)
        assert user is not None
        ids = dataset.filter("users", {"address.city": user["address"]["city"]})
        assert 4 in ids

    @pytest.mark.parametrize(
        "filters",
        [{"nope": "1"}, {"address": "x"}, {"userId": "01"}, {"userId": "0"}, {"id": "abc"}],
    )
    def test_unmatched_filters_give_nothing(self, filters: dict[str, str]) -> None:
        """Unknown fields, objects and non-canonical numbers match nothing, as in json-server."""
        assert list(Dataset().filter("posts", filters)) == []

    def test_no_filter_is_every_id(self) -> None:
        """Without filters every id matches."""
        assert Dataset().filter("users", {}) == range(1, 11)


class TestParseId:
    """Which texts are ids."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("1", 1), ("42", 42), ("01", None), ("0", None), ("-1", None), ("x", None), ("²", None)],
    )
    def test_only_canonical_positive_integers(self, text: str, expected: int | None) -> None:
        """An id must be written exactly as JSON writes a positive integer."""
        assert parse_id(text) == expected

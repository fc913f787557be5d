from __future__ import annotations

import pickle
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.processing.strategies import batch
from workbench.errors import ValidationError
from workbench.processing import NormaliseEmail, ProcessedBatch, Processor, Step, WordCounts
from workbench.processing.vectorised import MAX_NESTING, PandasProcessor

Data = dict[str, list[dict[str, Any]]]
RESOURCES = ("posts", "comments", "albums", "photos", "todos", "users")
#: Resources with every kind of schema: flat, with an email, with a bool, nested; and unknown.
DRAWN = ("posts", "comments", "todos", "users", "widgets")
PROPERTY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def shout(data: dict[str, Any]) -> dict[str, Any]:
    """Uppercase the title: a custom step with no column form."""
    if type(data.get("title")) is str:
        data["title"] = data["title"].upper()
    return data


def picky(data: dict[str, Any]) -> dict[str, Any]:
    """Refuse every seventh id: a custom step that rejects records."""
    if data["id"] % 7 == 0:
        raise ValidationError("field 'id': a multiple of seven")
    return data


#: Enrichments to hold the processors to: the default, none, column steps reading each
#: other's output, custom steps before and after column steps, and CPU burning.
ENRICHMENTS: dict[str, tuple[tuple[Step, ...] | None, int]] = {
    "default": (None, 0),
    "none": ((), 0),
    "chained": (
        (
            NormaliseEmail("title"),
            WordCounts(("title", "title_words", "email", "body")),
            NormaliseEmail("email_domain"),
            WordCounts(("email_domain", "email_domain_domain", "title")),
        ),
        0,
    ),
    "custom": ((WordCounts(("title",)), shout, picky, NormaliseEmail()), 0),
    "burn": (None, 3),
}


def typed(value: Any) -> Any:
    """Spell a value out with the type of every part and the order of every key."""
    if type(value) is dict:
        return ("dict", [(typed(key), typed(item)) for key, item in value.items()])
    if type(value) is list:
        return ("list", [typed(item) for item in value])
    return (type(value).__name__, value)


def assert_same(vectorised: ProcessedBatch, per_record: ProcessedBatch) -> None:
    """Assert two batches are equal to the type and key order of every value."""
    assert vectorised == per_record
    assert [typed(record.data) for record in vectorised.records] == [
        typed(record.data) for record in per_record.records
    ]


def both(resource: str, raws: list[Any], enrichment: str = "default") -> None:
    """Process ``raws`` with both processors and assert the batches are the same."""
    steps, cpu_cost = ENRICHMENTS[enrichment]
    assert_same(
        PandasProcessor(resource, steps, cpu_cost).process_many(raws),
        Processor(resource, steps, cpu_cost).process_many(raws),
    )


@pytest.fixture
def fallbacks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every raw record the per-record path is given, in order."""
    seen: list[object] = []
    process = Processor.process

    def counting(self: Processor, raw: object) -> Any:
        seen.append(raw)
        return process(self, raw)

    monkeypatch.setattr(Processor, "process", counting)
    yield seen


class TestSameBatches:
    """Whatever the records, the vectorised processor's batch is the per-record one."""

    @PROPERTY
    @given(st.data(), st.sampled_from(DRAWN))
    def test_drawn_pages_give_identical_batches(self, data: st.DataObject, resource: str) -> None:
        """Valid, invalid and hostile records in one page: the same records and rejects."""
        both(resource, batch(data, resource))

    @settings(PROPERTY, max_examples=40)
    @given(st.data(), st.sampled_from(DRAWN), st.sampled_from(sorted(ENRICHMENTS)))
    def test_every_enrichment_gives_identical_batches(
        self, data: st.DataObject, resource: str, enrichment: str
    ) -> None:
        """Chained column steps, custom steps and CPU burning give the same batches too."""
        both(resource, batch(data, resource), enrichment)

    @pytest.mark.parametrize("resource", RESOURCES)
    def test_real_records_give_identical_batches(
        self, jsonplaceholder: Data, resource: str
    ) -> None:
        """Every resource of the real JSONPlaceholder data gives the per-record batch."""
        both(resource, jsonplaceholder[resource])

    @pytest.mark.parametrize("enrichment", sorted(ENRICHMENTS))
    def test_real_records_under_every_enrichment(
        self, jsonplaceholder: Data, enrichment: str
    ) -> None:
        """Comments and users, under every enrichment, give the per-record batches."""
        both("comments", jsonplaceholder["comments"], enrichment)
        both("users", jsonplaceholder["users"], enrichment)

    def test_an_empty_page_gives_an_empty_batch(self) -> None:
        """No records give no records and no rejects."""
        assert PandasProcessor("posts").process_many([]) == ProcessedBatch("posts", [], [])

    def test_any_iterable_is_taken(self, jsonplaceholder: Data) -> None:
        """A generator of records is processed like the list it yields."""
        posts = jsonplaceholder["posts"][:5]
        assert PandasProcessor("posts").process_many(iter(posts)) == Processor(
            "posts"
        ).process_many(posts)


class TestColumnsDoTheWork:
    """The per-record path gets exactly the records the columns cannot vouch for."""

    def test_valid_pages_never_fall_back(
        self, jsonplaceholder: Data, fallbacks: list[object]
    ) -> None:
        """Every real record of every resource is processed as columns."""
        for resource in RESOURCES:
            PandasProcessor(resource).process_many(jsonplaceholder[resource])
        assert fallbacks == []

    def test_hostile_but_valid_text_is_cleaned_as_columns(self, fallbacks: list[object]) -> None:
        """NULs, CRs, Unicode whitespace and surrogates in valid records need no fallback."""
        raws = [
            {"userId": 1, "id": i, "title": f" t\x00i\r\n{i}\u2028 ", "body": "b\ud800\u0085c"}
            for i in range(1, 30)
        ]
        vectorised = PandasProcessor("posts").process_many(raws)
        assert fallbacks == []
        assert_same(vectorised, Processor("posts").process_many(raws))

    def test_only_what_fails_a_check_falls_back(
        self, jsonplaceholder: Data, fallbacks: list[object]
    ) -> None:
        """Broken records, non-objects and nesting too deep go per record; the rest do not."""
        posts: list[Any] = [dict(post) for post in jsonplaceholder["posts"][:20]]
        posts[3]["userId"] = "one"
        posts[5] = None
        posts[7]["id"] = 0
        posts[9]["title"] = 1.0
        posts[11]["extra"] = [1, 2]
        posts[13]["score"] = float("nan")
        posts[15]["meta"] = {"deep": {"deeper": {}}}
        vectorised = PandasProcessor("posts").process_many(posts)
        assert fallbacks == [posts[i] for i in (3, 5, 7, 9, 11, 13)]
        assert_same(vectorised, Processor("posts").process_many(posts))

    def test_nesting_beyond_the_limit_falls_back(self, fallbacks: list[object]) -> None:
        """An object nested deeper than MAX_NESTING goes per record, and is stored the same."""
        deep: dict[str, Any] = {"x": "y"}
        for _ in range(MAX_NESTING + 1):
            deep = {"down": deep}
        raws = [{"id": 1, "meta": deep}, {"id": 2, "meta": deep}]
        vectorised = PandasProcessor("widgets").process_many(raws)
        assert fallbacks == raws
        assert_same(vectorised, Processor("widgets").process_many(raws))


class TestProcessorInterface:
    """The vectorised processor is a Processor: one record, pickling, sharing."""

    def test_one_record_is_processed_per_record(self, jsonplaceholder: Data) -> None:
        """``process`` gives exactly the per-record result, accepted or rejected."""
        processor = PandasProcessor("users")
        for raw in (jsonplaceholder["users"][0], {"id": "x"}, None):
            assert processor.process(raw) == Processor("users").process(raw)

    def test_pickles_to_an_equal_processor(self, jsonplaceholder: Data) -> None:
        """A pickled processor comes back equal, of its class, and processes the same way."""
        processor = PandasProcessor("comments", steps=[WordCounts(("name",)), shout], cpu_cost=2)
        copy = pickle.loads(pickle.dumps(processor))
        assert copy == processor and type(copy) is PandasProcessor
        assert hash(copy) == hash(processor)
        assert copy != Processor("comments", steps=[WordCounts(("name",)), shout], cpu_cost=2)
        comments = jsonplaceholder["comments"][:30]
        assert copy.process_many(comments) == processor.process_many(comments)

    def test_repr_names_the_class(self) -> None:
        """The repr says which processor it is, with its settings."""
        assert repr(PandasProcessor("posts", steps=())) == (
            "PandasProcessor('posts', steps=(), cpu_cost=0)"
        )

    def test_threads_sharing_one_processor_match_sequential_results(
        self, jsonplaceholder: Data
    ) -> None:
        """Four threads processing pages through one processor give the sequential batches."""
        processor = PandasProcessor("comments")
        comments = jsonplaceholder["comments"]
        pages = [comments[i : i + 50] for i in range(0, len(comments), 50)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            threaded = list(pool.map(processor.process_many, pages))
        assert threaded == [Processor("comments").process_many(page) for page in pages]

from __future__ import annotations

import json
import multiprocessing
import pickle
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from types import MappingProxyType
from typing import Any

import pytest

from workbench.errors import ConfigError, ValidationError
from workbench.processing import (
    RAW_TEXT_LIMIT,
    BurnCpu,
    ProcessedBatch,
    ProcessedRecord,
    Processor,
    Reject,
    Unparsed,
    WordCounts,
    clean_value,
    content_checksum,
)

Data = dict[str, list[dict[str, Any]]]
RESOURCES = ("posts", "comments", "albums", "photos", "todos", "users")
#: The checksum of post 1 of the fixture: if this changes, every stored checksum goes stale.
POST_1_CHECKSUM = "d363a35bf5e02cce44873dfb9d4e141b"


def _post(**overrides: Any) -> dict[str, Any]:
    """Build a valid post with some fields replaced."""
    return {"userId": 1, "id": 7, "title": "a title", "body": "a body", **overrides}


def _reject(resource: str, raw: object) -> Reject:
    """Process ``raw`` and return the reject it must give."""
    result = Processor(resource).process(raw)
    assert isinstance(result, Reject)
    return result


def _reject_with(processor: Processor) -> Reject:
    """Process a valid post with ``processor`` and return the reject it must give."""
    result = processor.process(_post())
    assert isinstance(result, Reject)
    return result


def _accept(processor: Processor, raw: object) -> ProcessedRecord:
    """Process ``raw`` and return the record it must give."""
    result = processor.process(raw)
    assert isinstance(result, ProcessedRecord), result
    return result


class Explode:
    """A step that always fails, to check failures become rejects."""

    __slots__ = ()

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        """Raise instead of processing."""
        raise KeyError("boom")


def refuse(data: dict[str, Any]) -> dict[str, Any]:
    """Report a schema break of its own, as a strict custom step would."""
    raise ValidationError("field 'title': too rude")


def to_list(data: dict[str, Any]) -> Any:
    """Return the wrong type, as a broken custom step would."""
    return list(data)


class Hostile(Mapping[str, Any]):
    """A mapping whose every read fails, as a broken custom record type would."""

    def __getitem__(self, key: str) -> Any:
        """Fail to read a value."""
        raise RuntimeError("unreadable")

    def __iter__(self) -> Iterator[str]:
        """Fail to list the keys."""
        raise RuntimeError("unreadable")

    def __len__(self) -> int:
        """Claim one key."""
        return 1


class TestFixtureRecords:
    """The real JSONPlaceholder records all pass, keeping their fields."""

    @pytest.mark.parametrize("resource", RESOURCES)
    def test_every_real_record_is_accepted_with_its_fields(
        self, jsonplaceholder: Data, resource: str
    ) -> None:
        """Every record of the real data is accepted and keeps its original fields."""
        batch = Processor(resource).process_many(jsonplaceholder[resource])
        assert batch.rejects == []
        assert len(batch.records) == len(jsonplaceholder[resource])
        for raw, record in zip(jsonplaceholder[resource], batch.records, strict=True):
            assert record.resource == resource
            assert record.external_id == str(raw["id"])
            originals = {key: record.data[key] for key in raw}
            if "email" in raw:
                assert originals.pop("email") == raw["email"].lower()
                assert record.data["email_domain"] == raw["email"].rsplit("@", 1)[1].lower()
            assert originals == {key: value for key, value in raw.items() if key != "email"}

    def test_enrichment_fields_are_added(self, jsonplaceholder: Data) -> None:
        """Posts get word counts for title and body."""
        data = _accept(Processor("posts"), jsonplaceholder["posts"][0]).data
        assert data["title_words"] == 9
        assert data["body_words"] == 23

    def test_input_is_not_modified(self) -> None:
        """Processing leaves the caller's records exactly as they were."""
        raw = {"email": "A@B.C", "id": 1, "postId": 1, "name": " n ", "body": "b"}
        before = dict(raw)
        _accept(Processor("comments"), raw)
        assert raw == before


class TestCleaning:
    """Accepted records come out cleaned, and unknown resources need only an id."""

    def test_record_values_and_nested_keys_are_cleaned(self) -> None:
        """Whitespace, CRLF, NUL (in values and nested keys) and NFC are all fixed."""
        raw = _post(
            title="  cafe\u0301\x00  menu ",
            body="line one  \r\n\tline\x00 two\r\n",
            meta={"ke\x00y": {"in\x00ner": "v\x00"}},
        )
        data = _accept(Processor("posts", steps=()), raw).data
        assert data["title"] == "caf\u00e9 menu"
        assert data["body"] == "line one\nline two"
        assert data["meta"] == {"key": {"inner": "v"}}

    def test_a_mapping_that_is_not_a_dict_is_processed_too(self) -> None:
        """Any Mapping is a record, not only a dict: a read-only view is cleaned into a dict."""
        record = _accept(Processor("posts", steps=()), MappingProxyType(_post()))
        assert record.data == _post()
        assert type(record.data) is dict

    def test_unknown_resource_needs_only_an_id(self) -> None:
        """A new source's records pass with just a positive id and keep everything else."""
        record = _accept(Processor("widgets"), {"id": 5, "colour": " red "})
        assert record.external_id == "5"
        assert record.data == {"id": 5, "colour": "red"}
        assert _reject("widgets", {"colour": "red"}).reason == "missing required field 'id'"


class TestRejects:
    """Every kind of failure becomes a reject with a reason; nothing raises."""

    @pytest.mark.parametrize(
        ("raw", "kind", "text"),
        [
            ([1, 2], "array (list)", "[1, 2]"),
            ("text", "string", '"text"'),
            (None, "null", "null"),
            (3, "number", "3"),
            (True, "boolean", "true"),
            ({1}, "set", '"{1}"'),
        ],
    )
    def test_non_object_input_is_rejected(self, raw: object, kind: str, text: str) -> None:
        """Anything but a JSON object is a reject that keeps its text, without an external id."""
        reject = _reject("posts", raw)
        assert reject.reason == f"not a JSON object: {kind}"
        assert reject.external_id is None
        assert reject.raw == text
        assert reject.resource == "posts"

    def test_text_json_cannot_write_is_shown_as_python_would(self) -> None:
        """A record JSON cannot encode (a list holding itself) keeps its ASCII repr as its text."""
        loop: list[object] = []
        loop.append(loop)
        assert _reject("posts", loop).raw == "[[...]]"

    @pytest.mark.parametrize("length", [RAW_TEXT_LIMIT, RAW_TEXT_LIMIT + 1])
    def test_unparsed_items_are_rejected_with_their_text_and_reason(self, length: int) -> None:
        """An item its source could not parse is a reject with its text (cut past the limit)."""
        text = "x" * length
        kept = text if length <= RAW_TEXT_LIMIT else text[: RAW_TEXT_LIMIT - 1] + "…"
        result = Processor("posts").process(Unparsed(text, "invalid JSON"))
        assert result == Reject("posts", None, kept, "invalid JSON")

    @pytest.mark.parametrize(("raw_id", "external_id"), [(7.0, "7"), ("p-12", "p-12")])
    def test_a_whole_float_or_text_id_is_reported(self, raw_id: object, external_id: str) -> None:
        """A reject reports an id of 7.0 as "7" and a text id as itself."""
        assert _reject("posts", _post(id=raw_id, userId="x")).external_id == external_id

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ({"userId": 1, "id": 7, "body": "b"}, "missing required field 'title'"),
            (_post(userId="x"), "field 'userId': expected int, got str 'x'"),
            (_post(userId=True), "field 'userId': expected int, got bool True"),
            (_post(title=["t"]), "field 'title': expected str, got list ['t']"),
        ],
    )
    def test_schema_breaks_become_rejects_with_external_id(
        self, raw: dict[str, Any], reason: str
    ) -> None:
        """A schema break is a reject with a clear reason and the record's id."""
        reject = _reject("posts", raw)
        assert reject.reason == reason
        assert reject.external_id == "7"

    def test_non_positive_id_is_rejected(self) -> None:
        """An id of zero is a reject that still reports that id."""
        reject = _reject("posts", _post(id=0))
        assert reject.reason == "field 'id': expected a positive int, got 0"
        assert reject.external_id == "0"

    def test_external_id_is_none_when_id_is_unusable(self) -> None:
        """An id that is neither a number nor text is not reported as an external id."""
        assert _reject("posts", _post(id=[1])).external_id is None

    def test_raw_text_keeps_invisible_characters_visible(self) -> None:
        """The reject's raw text is ASCII JSON, so NUL and accents show as escapes."""
        reject = _reject("posts", {"id": 1, "title": "é\x00"})
        assert reject.raw == '{"id": 1, "title": "\\u00e9\\u0000"}'

    def test_raw_text_is_truncated(self) -> None:
        """A huge rejected record keeps at most RAW_TEXT_LIMIT characters of text."""
        reject = _reject("posts", _post(userId="x", body="b" * (3 * RAW_TEXT_LIMIT)))
        assert len(reject.raw) == RAW_TEXT_LIMIT
        assert reject.raw.endswith("…")

    def test_values_json_cannot_hold_are_rejected(self) -> None:
        """Infinity in an extra field cannot be stored, so the record is rejected."""
        reject = _reject("posts", _post(score=float("inf")))
        assert reject.reason.startswith("not storable as JSON:")

    def test_valid_records_survive_invalid_neighbours(self, jsonplaceholder: Data) -> None:
        """In a mixed batch the valid records are accepted, in order, beside the rejects."""
        good = jsonplaceholder["posts"][:3]
        raws: list[object] = [good[0], None, good[1], _post(id=-5), good[2], "x"]
        batch = Processor("posts").process_many(raws)
        assert [record.external_id for record in batch.records] == ["1", "2", "3"]
        assert [reject.external_id for reject in batch.rejects] == [None, "-5", None]

    def test_failing_step_becomes_a_reject_naming_it(self) -> None:
        """An unexpected exception in a step is a reject whose reason names the step."""
        reject = _reject_with(Processor("posts", steps=[WordCounts(), Explode()]))
        assert reject.reason == "step 'Explode' failed: KeyError: 'boom'"
        assert reject.external_id == "7"

    def test_validation_error_from_a_step_keeps_its_message(self) -> None:
        """A step raising ValidationError gives its own message as the reason."""
        assert _reject_with(Processor("posts", steps=[refuse])).reason == (
            "field 'title': too rude"
        )

    def test_step_returning_a_non_dict_is_a_reject(self) -> None:
        """A step that returns something other than a dict is named in the reject."""
        reject = _reject_with(Processor("posts", steps=[to_list]))
        assert reject.reason == "step 'to_list' returned list, not dict"
        assert (reject.external_id, reject.raw) == ("7", json.dumps(_post()))

    def test_an_unreadable_mapping_is_rejected_naming_the_cleaning_step(self) -> None:
        """A Mapping that raises when read is a reject naming the cleaning step, not a crash."""
        reject = _reject("posts", Hostile())
        assert reject.reason == "step 'CleanStrings' failed: RuntimeError: unreadable"
        assert reject.external_id is None

    def test_an_unexpected_error_while_checksumming_names_the_stage(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An error other than a schema break while checksumming is a reject naming 'checksum'."""

        def broken(data: Any) -> str:
            raise RuntimeError("no digest")

        monkeypatch.setattr("workbench.processing.processor.content_checksum", broken)
        reject = _reject("posts", _post())
        assert reject.reason == "step 'checksum' failed: RuntimeError: no digest"


class TestChecksum:
    """The checksum depends on the cleaned source content and nothing else."""

    def test_checksum_is_pinned(self, jsonplaceholder: Data) -> None:
        """The checksum of a known record is the same in every run and interpreter."""
        assert _accept(Processor("posts"), jsonplaceholder["posts"][0]).checksum == (
            POST_1_CHECKSUM
        )

    def test_checksum_ignores_key_order(self) -> None:
        """The same record with its keys in another order has the same checksum."""
        raw = _post()
        reordered = dict(reversed(list(raw.items())))
        processor = Processor("posts")
        assert _accept(processor, raw).checksum == _accept(processor, reordered).checksum

    def test_checksum_changes_with_content(self) -> None:
        """Changing the source content changes the checksum."""
        processor = Processor("posts")
        assert (
            _accept(processor, _post()).checksum
            != _accept(processor, _post(body="another body")).checksum
        )

    def test_checksum_is_taken_after_cleaning(self) -> None:
        """Source data differing only in what cleaning removes has the same checksum."""
        processor = Processor("posts")
        messy = _post(title="  a \x00title ", body="a body\r\n")
        assert _accept(processor, messy).checksum == _accept(processor, _post()).checksum

    def test_checksum_is_unaffected_by_enrichment(self) -> None:
        """No enrichment, default enrichment and CPU burning give the same checksum."""
        raw = _post()
        checksums = {
            _accept(Processor("posts", steps=()), raw).checksum,
            _accept(Processor("posts"), raw).checksum,
            _accept(Processor("posts", cpu_cost=10), raw).checksum,
        }
        assert checksums == {content_checksum(clean_value(raw))}


class TestConstruction:
    """Bad settings are refused up front; good ones shape the pipeline."""

    def test_empty_resource_is_refused(self) -> None:
        """A processor needs a resource name, and the error shows what it got."""
        with pytest.raises(ConfigError, match=r"^resource must be a non-empty string, got ''$"):
            Processor("")

    def test_non_callable_step_is_refused(self) -> None:
        """A step that cannot be called is a configuration error that shows the step."""
        with pytest.raises(ConfigError, match=r"^processing step 'not a step' is not callable$"):
            Processor("posts", steps=["not a step"])  # type: ignore[list-item]

    def test_negative_cpu_cost_is_refused(self) -> None:
        """A negative CPU cost is a configuration error."""
        with pytest.raises(ConfigError):
            Processor("posts", cpu_cost=-1)

    def test_no_cpu_is_burnt_by_default(self) -> None:
        """A processor built without a CPU cost has a cost of zero."""
        processor = Processor("posts")
        assert processor.cpu_cost == 0
        assert repr(processor).endswith("cpu_cost=0)")

    @pytest.mark.parametrize(("cpu_cost", "seeds"), [(0, []), (5, [7])])
    def test_cpu_is_burnt_once_per_record_only_when_asked(
        self, monkeypatch: pytest.MonkeyPatch, cpu_cost: int, seeds: list[int]
    ) -> None:
        """A CPU cost burns once per accepted record, seeded by its id; no cost burns nothing."""
        burnt: list[int] = []
        monkeypatch.setattr(BurnCpu, "work", lambda self, seed: burnt.append(seed) or 0)
        _accept(Processor("posts", cpu_cost=cpu_cost), _post())
        assert burnt == seeds

    def test_cpu_cost_does_not_change_results(self, jsonplaceholder: Data) -> None:
        """Burning CPU gives exactly the results of not burning it."""
        posts = jsonplaceholder["posts"][:10]
        assert Processor("posts", cpu_cost=500).process_many(posts) == Processor(
            "posts"
        ).process_many(posts)

    def test_no_steps_means_no_enrichment(self) -> None:
        """An empty step list gives the cleaned source record and nothing more."""
        assert _accept(Processor("posts", steps=()), _post()).data == _post()


class TestPickling:
    """Processors and results cross process boundaries intact."""

    def test_processor_round_trip(self) -> None:
        """A pickled processor comes back equal and processes the same way."""
        processor = Processor("comments", steps=[WordCounts(("name",))], cpu_cost=3)
        copy = pickle.loads(pickle.dumps(processor))
        assert copy == processor
        raw = {"postId": 1, "id": 2, "name": "a b", "email": "x@y.z", "body": "b"}
        assert copy.process(raw) == processor.process(raw)

    def test_hash_follows_the_constructor_arguments(self) -> None:
        """Equal processors hash alike; processors of different resources hash apart."""
        assert hash(Processor("posts")) == hash(Processor("posts"))
        assert hash(Processor("posts")) != hash(Processor("comments"))

    def test_results_round_trip(self) -> None:
        """Records, rejects and batches survive pickling unchanged."""
        batch = Processor("posts").process_many([_post(), None])
        assert isinstance(batch, ProcessedBatch)
        for value in (batch, batch.records[0], batch.rejects[0]):
            assert pickle.loads(pickle.dumps(value)) == value

    def test_process_pool_matches_in_process(self, jsonplaceholder: Data) -> None:
        """Two spawned worker processes give exactly the in-process results."""
        processor = Processor("comments", cpu_cost=5)
        raws: list[object] = [*jsonplaceholder["comments"][:40], None, {"id": "x"}]
        chunks = [raws[index::2] for index in range(2)]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            pooled = list(pool.map(processor.process_many, chunks))
        assert pooled == [processor.process_many(chunk) for chunk in chunks]
        assert sum(len(batch.rejects) for batch in pooled) == 2

    def test_burn_cpu_is_deterministic_across_processes(self) -> None:
        """A worker process computes the same BurnCpu result as this one."""
        burn = BurnCpu(2_000)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            assert pool.submit(burn.work, 99).result() == burn.work(99)


class TestSharing:
    """One processor serves many threads at once."""

    def test_threads_sharing_a_processor_match_sequential_results(
        self, jsonplaceholder: Data
    ) -> None:
        """Four threads processing through one processor give the sequential results."""
        processor = Processor("users")
        raws = jsonplaceholder["users"] * 20
        with ThreadPoolExecutor(max_workers=4) as pool:
            threaded = list(pool.map(processor.process, raws))
        assert threaded == [processor.process(raw) for raw in raws]

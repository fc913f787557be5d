"""Hostile and broken input through every mode: the bad part rejected with a reason, the rest in.

The local API answers page 2 of each resource with one hostile kind
(``workbench.local_api.hostile``); whatever it is, the run never crashes, every valid record
of every other page lands, and what was refused is recorded with why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from workbench.ingestion import RetryOptions
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread
from workbench.local_api.hostile import SQL, UNICODE
from workbench.processing import clean_text

#: Two attempts, no real waiting: a page that keeps failing fails fast.
QUICK_RETRIES = RetryOptions(attempts=2, base=0.001, cap=0.01)
PER_RESOURCE = {"posts": 50, "comments": 250}


@pytest.fixture(scope="module")
def other_server() -> Iterator[ServerHandle]:
    """Another API on another loopback address: a redirect there changes host."""
    with serve_in_thread(seed=99, scale=0.5, host="127.0.0.2") as handle:
        yield handle


@pytest.fixture
def other_host(other_server: ServerHandle) -> ServerHandle:
    """``other_server`` with its counts reset, so no test sees what an earlier one was served."""
    other_server.reset_stats()
    return other_server


def run(build: Any, api: ServerHandle, mode: str, kind: str, **source_options: Any) -> Any:
    """Ingest both resources with page 2 of each answered as ``kind``; return the ingestor."""
    api.set_faults(FaultConfig(hostile=(kind,), huge_mb=2.0, hostile_target=source_options.pop(
        "target", "")))  # fmt: skip
    ingestor = build(
        mode, api.url, retry_options=QUICK_RETRIES, source_options=source_options or None
    )
    ingestor.report = ingestor.run()
    return ingestor


def stored_ids(ingestor: Any, resource: str) -> set[str]:
    """Return the external ids stored for ``resource``."""
    return set(ingestor.store.checksums("local", resource))


def rejects(ingestor: Any) -> list[dict[str, Any]]:
    """Return the run's reject rows."""
    return ingestor.store.rejects("local")


class TestBadRecords:
    """One bad record on a page: it alone is rejected, with why."""

    @pytest.mark.parametrize(
        ("kind", "reason"),
        [
            ("deep", "invalid JSON: depth limit exceeded"),
            ("invalid_utf8", "invalid JSON: str is not valid UTF-8"),
            ("long_string", "field 'body' is 1,000,000 characters long: at most 100,000"),
        ],
    )
    def test_the_bad_record_is_rejected_and_its_page_lands(
        self, mode: str, api: ServerHandle, build: Any, kind: str, reason: str
    ) -> None:
        """Each resource's page 2 loses one record, rejected with the reason; the rest land."""
        ingestor = run(build, api, mode, kind)
        assert ingestor.report.ok, ingestor.report.failed_pages
        for resource, total in PER_RESOURCE.items():
            assert len(stored_ids(ingestor, resource)) == total - 1
        found = rejects(ingestor)
        assert {row["resource"] for row in found} == set(PER_RESOURCE)
        assert all(row["reason"].startswith(reason) for row in found), found

    def test_wrong_types_and_missing_fields(self, mode: str, api: ServerHandle, build: Any) -> None:
        """A string userId and a missing title are rejected by field; the page's rest lands."""
        ingestor = run(build, api, mode, "wrong_types")
        assert ingestor.report.ok
        reasons = sorted(row["reason"] for row in rejects(ingestor) if row["resource"] == "posts")
        assert reasons == ["field 'userId': expected int, got str 'one'",
                           "missing required field 'title'"]  # fmt: skip
        assert len(stored_ids(ingestor, "posts")) == PER_RESOURCE["posts"] - 2


class TestTextThatMustSurvive:
    """Text that breaks naive code lands, harmless and as it was meant."""

    def test_nul_characters_are_dropped_and_the_record_lands(
        self, mode: str, api: ServerHandle, build: Any
    ) -> None:
        """NULs, which Postgres cannot store, are cleaned away; every record lands."""
        ingestor = run(build, api, mode, "nul")
        assert ingestor.report.ok and ingestor.report.rejected == 0
        assert ingestor.store.count("local") == sum(PER_RESOURCE.values())

    @pytest.mark.parametrize(
        ("kind", "field", "text"), [("sql", "body", SQL), ("unicode", "title", UNICODE)]
    )
    def test_stored_verbatim_after_cleaning(
        self, mode: str, api: ServerHandle, build: Any, kind: str, field: str, text: str
    ) -> None:
        """SQL metacharacters and text from every Unicode plane are stored as cleaned text."""
        ingestor = run(build, api, mode, kind)
        assert ingestor.report.ok and ingestor.report.rejected == 0
        assert ingestor.store.count("local") == sum(PER_RESOURCE.values())
        rows = ingestor.store._query(
            "SELECT data FROM ingested_data WHERE source = 'local' AND resource = 'posts'"
            " AND external_id::int BETWEEN 11 AND 20"
        )
        expected = clean_text(text)
        assert all(row["data"][field].startswith(expected) for row in rows), rows[0]
        assert ingestor.store.count() >= sum(PER_RESOURCE.values())  # no table was dropped


class TestBadPages:
    """A page that cannot be read at all fails alone, recorded with why."""

    @pytest.mark.parametrize(
        ("kind", "reason", "options"),
        [
            ("html", "MalformedPayloadError: invalid JSON", {}),
            ("not_array", "UnexpectedPayloadError: expected a JSON array", {}),
            ("huge", "PayloadTooLargeError:", {"max_page_bytes": 1024 * 1024}),
            ("trickle", "SourceTimeoutError:", {"timeout_s": 0.5}),
        ],
    )
    def test_the_page_fails_with_its_reason_and_the_rest_land(
        self,
        mode: str,
        api: ServerHandle,
        build: Any,
        kind: str,
        reason: str,
        options: dict[str, Any],
    ) -> None:
        """Page 2 of each resource fails naming why; every other page's records land."""
        ingestor = run(build, api, mode, kind, **options)
        failed = ingestor.report.failed_pages
        assert sorted((f["resource"], f["page"]) for f in failed) == [("comments", 2), ("posts", 2)]
        assert all(f["reason"].startswith(reason) for f in failed), failed
        for resource, total in PER_RESOURCE.items():
            assert len(stored_ids(ingestor, resource)) == total - 10

    def test_a_permanent_shape_error_is_not_retried(
        self, mode: str, api: ServerHandle, build: Any
    ) -> None:
        """Valid JSON of the wrong shape is asked for once: retrying cannot change it."""
        ingestor = run(build, api, mode, "not_array")
        assert ingestor.report.retries_by_stage.get("fetch", 0) == 0


class TestRedirects:
    """A page that redirects elsewhere."""

    def test_another_host_is_not_followed(
        self, mode: str, api: ServerHandle, build: Any, other_host: ServerHandle
    ) -> None:
        """A redirect to another host fails the page, naming the host; nothing of it is stored."""
        ingestor = run(build, api, mode, "redirect", target=other_host.url)
        failed = ingestor.report.failed_pages
        assert len(failed) == 2
        assert all("redirected to another host (127.0.0.2:" in f["reason"] for f in failed)
        assert other_host.stats()["records_served"] == 0

    def test_an_allowed_host_is_followed(
        self, mode: str, api: ServerHandle, build: Any, other_host: ServerHandle
    ) -> None:
        """With the host allowed, the redirect is followed and its records stored."""
        ingestor = run(build, api, mode, "redirect", target=other_host.url,
                       allowed_redirect_hosts={"127.0.0.2"})  # fmt: skip
        assert ingestor.report.ok
        assert other_host.stats()["records_served"] == 20


class TestHeadersThatLie:
    """Counts and links that do not match the data."""

    @pytest.mark.parametrize("kind", ["total_high", "total_low", "link_loop"])
    def test_every_record_lands_and_requests_stay_bounded(
        self, mode: str, api: ServerHandle, build: Any, expected: Any, kind: str
    ) -> None:
        """Whatever the headers claim, each record lands once, in a bounded number of pages."""
        ingestor = run(build, api, mode, kind)
        assert ingestor.report.ok, ingestor.report.failed_pages
        for resource, total in PER_RESOURCE.items():
            assert len(stored_ids(ingestor, resource)) == total
        assert ingestor.report.pages <= expected.pages + 2 * 24  # a window past the end at most

    def test_the_same_id_on_two_pages_is_stored_once(
        self, mode: str, api: ServerHandle, build: Any
    ) -> None:
        """Page 2 repeating page 1's ids stores one row per id, without an error."""
        ingestor = run(build, api, mode, "duplicate_ids")
        assert ingestor.report.ok
        for resource, total in PER_RESOURCE.items():
            assert len(stored_ids(ingestor, resource)) == total - 10

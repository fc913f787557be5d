"""What travels on the streams: tasks, results and source specs, as JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import ConfigError, TaskFormatError
from workbench.ingestion.report import PageSpan, UnitResult
from workbench.queue.codec import (
    decode_results,
    decode_units,
    encode_results,
    encode_units,
    source_from_spec,
    source_spec,
)
from workbench.sources.files import FileSource
from workbench.sources.http_api import HttpApiSource
from workbench.sources.source import WorkUnit


class TestTasks:
    """Units in, units out; anything else is a poison task."""

    def test_units_round_trip(self) -> None:
        """A task's units decode to the units encoded, offsets included."""
        units = [WorkUnit("posts", 2, "http://a/posts?_page=2"), WorkUnit("c", 1, "f#0-9", 0, 9)]
        assert decode_units(encode_units(units)) == units

    @pytest.mark.parametrize(
        "fields", [{}, {"units": "not json"}, {"units": "[[1]]"}, {"units": "[]"}]
    )
    def test_anything_else_is_a_task_format_error(self, fields: dict[str, str]) -> None:
        """Missing, unparseable, misshapen or empty units raise TaskFormatError."""
        with pytest.raises(TaskFormatError):
            decode_units(fields)


class TestResults:
    """Page results keep every field, spans included."""

    def test_results_round_trip(self) -> None:
        """A result with a span and retries decodes equal to the one encoded."""
        span = PageSpan("posts", 1, "w1", (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5))
        result = UnitResult(
            "posts", 1, "u", fetched=10, inserted=9, retries={"fetch": 1}, span=span
        )
        failed = UnitResult("posts", 2, "v", error="ServerError: HTTP 500")
        assert decode_results(encode_results([result, failed])) == [result, failed]


class TestSourceSpecs:
    """A job's source, described for another machine."""

    def test_http_and_file_sources_round_trip(self, tmp_path: Path) -> None:
        """An API and a file source are rebuilt with the same settings."""
        api = HttpApiSource("http://api:8000", page_size=20, timeout_s=3, name="local")
        path = tmp_path / "posts.jsonl"
        path.write_text("{}\n")
        files = FileSource({"posts": path}, page_size=5, name="f")
        for source in (api, files):
            rebuilt = source_from_spec(source_spec(source) or {})
            assert source_spec(rebuilt) == source_spec(source)

    def test_an_unknown_kind_is_a_config_error(self) -> None:
        """A spec of a kind no code rebuilds names the kind."""
        with pytest.raises(ConfigError, match="unknown source kind 'kafka'"):
            source_from_spec({"kind": "kafka"})

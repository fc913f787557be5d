from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from workbench import logging_setup
from workbench.errors import ConfigError
from workbench.logging_setup import (
    LOGGER_NAME,
    bind_context,
    configure_logging,
    get_context,
    logged,
    unconfigure_logging,
)

LOG = logging.getLogger("workbench.tests.logging")
SECRET = "hunter2"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Configure JSON logging at DEBUG into a buffer, removing the handler afterwards."""
    buffer = io.StringIO()
    configure_logging("json", "DEBUG", buffer)
    yield buffer
    unconfigure_logging()


def records(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Parse every line written to ``buffer`` as one JSON object."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def fake_clock(monkeypatch: pytest.MonkeyPatch, *readings: float) -> None:
    """Make ``time.perf_counter`` in logging_setup return ``readings`` in turn."""
    ticks = iter(readings)
    monkeypatch.setattr(logging_setup.time, "perf_counter", lambda: next(ticks))


class TestJsonFormat:
    """JSON lines: base fields, context, extras, exceptions."""

    def test_each_record_is_one_json_object_with_base_fields(self, stream: io.StringIO) -> None:
        """A record becomes one line with ts, level, logger and the formatted message."""
        LOG.info("fetched %d rows", 3)
        (line,) = records(stream)
        assert line["level"] == "INFO"
        assert line["logger"] == "workbench.tests.logging"
        assert line["message"] == "fetched 3 rows"
        assert datetime.fromisoformat(line["ts"]).utcoffset() == timedelta(0)

    def test_bound_context_and_extra_fields_are_included(self, stream: io.StringIO) -> None:
        """Fields from bind_context and from extra= appear as top-level keys."""
        with bind_context(run_id="r1", mode="async", resource="posts"):
            LOG.warning("slow page", extra={"page": 4, "worker": "w-2"})
        (line,) = records(stream)
        assert {k: line[k] for k in ("run_id", "mode", "resource", "page", "worker")} == {
            "run_id": "r1",
            "mode": "async",
            "resource": "posts",
            "page": 4,
            "worker": "w-2",
        }

    def test_base_fields_win_a_name_clash(self, stream: io.StringIO) -> None:
        """A context field called ``level`` cannot overwrite the record's real level."""
        with bind_context(level="fake"):
            LOG.error("real")
        assert records(stream)[0]["level"] == "ERROR"

    def test_exception_is_rendered_as_a_string_field(self, stream: io.StringIO) -> None:
        """``exc_info`` holds the formatted traceback as a string, on the same line."""
        try:
            raise ValueError("bad row")
        except ValueError:
            LOG.exception("insert failed")
        (line,) = records(stream)
        assert isinstance(line["exc_info"], str)
        assert "Traceback" in line["exc_info"]
        assert "ValueError: bad row" in line["exc_info"]

    def test_non_json_values_become_strings(self, stream: io.StringIO) -> None:
        """An extra value JSON cannot encode is written as its str()."""
        LOG.info("x", extra={"when": datetime(2024, 1, 2, tzinfo=UTC)})
        assert records(stream)[0]["when"] == "2024-01-02 00:00:00+00:00"

    def test_passwords_are_redacted_everywhere(self, stream: io.StringIO) -> None:
        """DSN passwords in the message, the context, extras and tracebacks are masked."""
        dsn = f"postgresql://app:{SECRET}@db/x"
        with bind_context(dsn=dsn):
            try:
                raise ConnectionError(f"cannot reach {dsn}")
            except ConnectionError:
                LOG.exception("connect %s", dsn, extra={"redis": f"redis://:{SECRET}@c:6379"})
        output = stream.getvalue()
        assert SECRET not in output
        line = records(stream)[0]
        assert line["dsn"] == "postgresql://app:***@db/x"
        assert line["redis"] == "redis://:***@c:6379"


class TestTextFormat:
    """The human-readable single-line format."""

    def test_line_has_level_logger_message_and_context_suffix(self) -> None:
        """Text lines end with key=value pairs, quoting values that contain spaces."""
        buffer = io.StringIO()
        configure_logging("text", "INFO", buffer)
        try:
            with bind_context(run_id="r1", note="two words"):
                LOG.info("done", extra={"rows": 5})
        finally:
            unconfigure_logging()
        (line,) = buffer.getvalue().splitlines()
        assert " INFO " in line
        assert line.endswith('workbench.tests.logging: done run_id=r1 note="two words" rows=5')

    def test_level_filters_lower_records(self) -> None:
        """At WARNING, info records are dropped."""
        buffer = io.StringIO()
        configure_logging("text", "WARNING", buffer)
        try:
            LOG.info("hidden")
            LOG.warning("shown")
        finally:
            unconfigure_logging()
        assert "hidden" not in buffer.getvalue()
        assert "shown" in buffer.getvalue()


class TestConfigureLogging:
    """Installing, replacing and removing workbench's handler."""

    def test_second_call_replaces_the_handler(self) -> None:
        """Two calls leave exactly one workbench handler, writing to the latest stream."""
        first, second = io.StringIO(), io.StringIO()
        configure_logging("json", "INFO", first)
        configure_logging("json", "INFO", second)
        try:
            assert len(logging.getLogger(LOGGER_NAME).handlers) == 1
            LOG.info("once")
        finally:
            unconfigure_logging()
        assert first.getvalue() == ""
        assert len(records(second)) == 1

    def test_unconfigure_restores_propagation(self) -> None:
        """After unconfigure_logging the workbench logger has no handler and propagates."""
        configure_logging("text", "INFO", io.StringIO())
        assert logging.getLogger(LOGGER_NAME).propagate is False
        unconfigure_logging()
        assert logging.getLogger(LOGGER_NAME).handlers == []
        assert logging.getLogger(LOGGER_NAME).propagate is True

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [({"format": "xml"}, "log_format"), ({"level": "LOUD"}, "log_level"), ({"level": 5}, "5")],
    )
    def test_bad_format_or_level_is_a_config_error(
        self, kwargs: dict[str, Any], match: str
    ) -> None:
        """An unknown format or level raises ConfigError naming it, installing nothing."""
        with pytest.raises(ConfigError, match=match):
            configure_logging(**kwargs)
        assert logging.getLogger(LOGGER_NAME).handlers == []

    def test_level_accepts_logging_constants(self, stream: io.StringIO) -> None:
        """An int level such as logging.ERROR is accepted like its name."""
        configure_logging("json", logging.ERROR, stream)
        assert logging.getLogger(LOGGER_NAME).level == logging.ERROR


class TestContext:
    """bind_context and get_context through contextvars."""

    def test_nested_binding_restores_the_outer_context(self) -> None:
        """Leaving an inner block brings back exactly the outer fields."""
        with bind_context(run_id="r1", page=1):
            with bind_context(page=2, worker="w1"):
                assert get_context() == {"run_id": "r1", "page": 2, "worker": "w1"}
            assert get_context() == {"run_id": "r1", "page": 1}
        assert get_context() == {}

    def test_context_is_restored_after_an_exception(self) -> None:
        """An exception leaving the block still unbinds its fields."""
        with pytest.raises(RuntimeError), bind_context(run_id="r1"):
            raise RuntimeError
        assert get_context() == {}

    def test_context_is_per_asyncio_task_and_survives_await(self) -> None:
        """Concurrent tasks each see only their own fields, before and after awaiting."""

        async def work(name: str, gate: asyncio.Event) -> tuple[dict[str, Any], dict[str, Any]]:
            with bind_context(source=name):
                before = get_context()
                await gate.wait()  # both tasks are inside their blocks at this point
                return before, get_context()

        async def main() -> list[tuple[dict[str, Any], dict[str, Any]]]:
            gate = asyncio.Event()
            tasks = [asyncio.create_task(work(n, gate)) for n in ("a", "b")]
            await asyncio.sleep(0)
            gate.set()
            return await asyncio.gather(*tasks)

        results = asyncio.run(main())
        assert results == [({"source": "a"}, {"source": "a"}), ({"source": "b"}, {"source": "b"})]
        assert get_context() == {}


class TestLogged:
    """The @logged decorator on plain and async functions."""

    def test_sync_call_logs_start_and_end_with_duration(
        self, stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Start and end are logged at DEBUG; the end carries the elapsed seconds."""

        @logged(logger="workbench.tests.logged")
        def add(a: int, b: int) -> int:
            return a + b

        fake_clock(monkeypatch, 10.0, 12.5)
        assert add(2, 3) == 5
        start, end = records(stream)
        assert (start["level"], end["level"]) == ("DEBUG", "DEBUG")
        assert start["function"].endswith("add")
        assert end["elapsed_s"] == 2.5
        assert "finished in 2.500s" in end["message"]

    def test_sync_exception_is_logged_at_error_and_reraised(
        self, stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A failing call logs ERROR with duration and traceback, then raises the same error."""

        @logged(logger=logging.getLogger("workbench.tests.logged"))
        def explode() -> None:
            raise KeyError("missing")

        fake_clock(monkeypatch, 1.0, 1.25)
        with pytest.raises(KeyError, match="missing"):
            explode()
        failure = records(stream)[-1]
        assert failure["level"] == "ERROR"
        assert failure["elapsed_s"] == 0.25
        assert "KeyError" in failure["exc_info"]

    def test_async_call_is_timed_and_failures_reraised(
        self, stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An async function stays a coroutine function, timed across its awaits."""

        @logged(level=logging.INFO, logger="workbench.tests.logged")
        async def fetch(fail: bool) -> str:
            await asyncio.sleep(0)
            if fail:
                raise TimeoutError("slow")
            return "ok"

        assert asyncio.iscoroutinefunction(fetch)
        fake_clock(monkeypatch, 0.0, 0.5, 1.0, 4.0)
        assert asyncio.run(fetch(False)) == "ok"
        with pytest.raises(TimeoutError):
            asyncio.run(fetch(True))
        levels = [(r["level"], r.get("elapsed_s")) for r in records(stream)]
        assert levels == [("INFO", None), ("INFO", 0.5), ("INFO", None), ("ERROR", 3.0)]

    def test_bare_decorator_uses_the_module_logger_and_keeps_metadata(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """@logged without arguments logs to the function's module logger and keeps its name."""

        @logged
        def square(x: int) -> int:
            """Square x."""
            return x * x

        with caplog.at_level(logging.DEBUG, logger=__name__):
            assert square(4) == 16
        assert square.__doc__ == "Square x."
        assert [r.name for r in caplog.records] == [__name__, __name__]

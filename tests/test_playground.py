"""The notebooks' Playground: services, a local API and one-line ingestion runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.playground import MEASUREMENTS_ENV, Playground, measurements, record, time_modes


class TestPlayground:
    """Ingesting through the playground against the real services."""

    def test_ingest_count_and_reset(self) -> None:
        """A run stores every record under the playground's source; reset removes them."""
        with Playground(scale=0.5, source_name="test-playground") as pg:
            pg.reset()
            report = pg.ingest("async", resources=("posts", "todos"), page_size=20)
            assert report.ok
            assert pg.count() == report.inserted == 50 + 100
            assert pg.count("todos") == 100
            again = pg.ingest("sync", resources=("posts",), page_size=20)
            assert (again.inserted, again.unchanged) == (0, 50)
            pg.reset()
            assert pg.count() == 0

    def test_two_playgrounds_never_wipe_each_others_cache(self) -> None:
        """Each playground has its own cache namespace: one's reset keeps the other's cache."""
        with Playground(scale=0.1, source_name="pg-a") as a, Playground(scale=0.1) as b:
            assert a.cache_namespace != b.cache_namespace
            assert a.ingest("sync", resources=("posts",), use_cache=True).ok
            assert b.ingest("sync", resources=("posts",), use_cache=True).ok
            a.reset()
            again = b.ingest("sync", resources=("posts",), use_cache=True)
            assert again.cache_hits == again.pages

    def test_settings_point_at_the_playground(self) -> None:
        """Settings built by the playground name its API and the running services."""
        with Playground(scale=0.1) as pg:
            settings = pg.settings(mode="threaded")
            assert settings.base_url == pg.url
            assert settings.postgres_dsn == pg.services.postgres_dsn
            assert settings.mode == "threaded"
            assert settings.use_cache is False


class TestTimeModes:
    """Every mode run on one load, from an empty store each time."""

    def test_each_mode_runs_every_round_from_empty(self) -> None:
        """Each mode has one whole run per round, every run inserting all, none left stored."""
        with Playground(scale=0.1, source_name="test-time-modes") as pg:
            runs = time_modes(pg, ["sync", "threaded"], repeats=2, resources=("posts",))
            assert list(runs) == ["sync", "threaded"]
            for timed in (run for mode_runs in runs.values() for run in mode_runs):
                assert timed.report.ok and timed.report.inserted == 10  # never found stored
                assert timed.cpu_seconds > 0 and timed.core_share > 0
            assert [len(mode_runs) for mode_runs in runs.values()] == [2, 2]
            assert pg.count() == 0


class TestMeasurements:
    """Numbers notebooks keep for the interview summary."""

    def test_record_merges_topics(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Recording adds to a topic without dropping its other numbers or other topics."""
        path = tmp_path / "m.json"
        monkeypatch.setenv(MEASUREMENTS_ENV, str(path))
        assert measurements() == {}
        record("gil", threads_s=1.5)
        record("gil", processes_s=0.8)
        record("async", async_s=0.2)
        assert measurements() == {
            "gil": {"threads_s": 1.5, "processes_s": 0.8},
            "async": {"async_s": 0.2},
        }
        assert json.loads(path.read_text()) == measurements()

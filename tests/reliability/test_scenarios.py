"""The scenarios as data: every kind of trouble present, and the ``--scenario`` flag read."""

from __future__ import annotations

import pytest

from workbench.errors import ConfigError
from workbench.ingestion import MODES
from workbench.local_api.hostile import HOSTILE_KINDS
from workbench.reliability.runs import RUNNERS
from workbench.reliability.scenarios import GROUPS, SCENARIOS, parse_scenarios


class TestCatalogue:
    """What a full run covers."""

    def test_every_group_has_a_runner(self) -> None:
        """Each scenario group is run by exactly one runner."""
        assert set(GROUPS) == set(RUNNERS)

    def test_every_hostile_kind_is_a_scenario_and_every_mode_takes_a_turn(self) -> None:
        """One row per hostile kind; the kinds are spread over all four modes."""
        hostile = [s for s in SCENARIOS if s.group == "hostile"]
        assert sorted(s.params["kind"] for s in hostile) == sorted(HOSTILE_KINDS)
        assert {s.modes[0] for s in hostile} == set(MODES)

    def test_the_other_scenarios_run_in_every_mode(self) -> None:
        """Faults, signals, kills, outages and the soak are rows in each mode."""
        for scenario in SCENARIOS:
            if scenario.group != "hostile":
                assert scenario.modes == tuple(MODES), scenario.name

    def test_stopped_runs_expect_the_signal_status_then_a_clean_rerun(self) -> None:
        """SIGTERM, SIGINT and SIGKILL end 143, 130 and 137; the re-run ends 0."""
        expected = {s.name: s.expected for s in SCENARIOS}
        assert expected["sigterm"] == (143, 0)
        assert expected["sigint"] == (130, 0)
        assert expected["sigkill"] == (137, 0)
        assert expected["pg-outage"] == (1, 0)


class TestParse:
    """The ``--scenario`` and ``--mode`` flags."""

    def test_nothing_named_means_everything(self) -> None:
        """An empty flag runs every scenario."""
        assert parse_scenarios("") == SCENARIOS

    def test_groups_and_names_select_scenarios(self) -> None:
        """A group selects its scenarios; a name selects one."""
        chosen = parse_scenarios("signals, hostile-deep")
        assert [s.name for s in chosen] == ["hostile-deep", "sigterm", "sigint"]

    def test_modes_narrow_each_scenario(self) -> None:
        """``--mode`` keeps only those modes; a scenario left with none is dropped."""
        chosen = parse_scenarios("soak,hostile", "async")
        assert all(s.modes == ("async",) for s in chosen)
        in_async = [
            s.name for s in SCENARIOS if s.group in ("soak", "hostile") and "async" in s.modes
        ]
        assert [s.name for s in chosen] == in_async and "soak" in in_async

    @pytest.mark.parametrize(
        ("scenarios", "modes", "message"),
        [
            ("nope", "", "--scenario 'nope'"),
            ("soak", "fast", "--mode 'fast'"),
            ("hostile-deep", "threaded", "no scenario is left"),
        ],
    )
    def test_unknown_names_are_config_errors(
        self, scenarios: str, modes: str, message: str
    ) -> None:
        """An unknown scenario or mode, or nothing left to run, is one clear error."""
        with pytest.raises(ConfigError, match=message):
            parse_scenarios(scenarios, modes)

"""The reliability scenarios as data: the trouble, the modes, the exit statuses expected.

Each ``Scenario`` is one kind of trouble (``group``) with its parameters; a ``Plan`` says
how big the data is (``FULL`` for ``make reliability``, ``QUICK`` for tests and a quick
look). A scenario gives one table row per mode it runs in. ``parse_scenarios`` reads the
``--scenario`` flag: scenario names or group names, comma-separated.

Exit statuses are the ``workbench ingest`` convention, one per run of the scenario: 0 ok,
1 some page failed after its retries (or Postgres gone), 128 + N after signal N (a run
killed by SIGKILL has no status of its own: the shell's 137 is shown).
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.errors import ConfigError
from workbench.ingestion.modes import MODES
from workbench.local_api.hostile import ANSWER_KINDS, HOSTILE_KINDS

__all__ = [
    "FULL",
    "GROUPS",
    "QUICK",
    "SCENARIOS",
    "Plan",
    "Scenario",
    "parse_scenarios",
    "signal_status",
]

ALL_MODES = tuple(MODES)


def signal_status(signum: int) -> int:
    """Return the shell's status for a process ended by ``signum`` (128 + N)."""
    return 128 + signum


@dataclass(frozen=True)
class Plan:
    """How large a reliability run is: the data each group of scenarios reads."""

    name: str
    #: Records of the soak, per mode (posts and comments, pages of 100).
    soak_records: int
    #: Data set scale of the transient-fault runs (1.0: 100 posts, 500 comments).
    faults_scale: float
    #: Data set scale of the signal, kill, restart and outage runs (pages of 10, slowed).
    interrupt_scale: float
    #: Data set scale of the hostile-input runs (pages of 10).
    hostile_scale: float
    #: Peak RSS of the soak's last quarter may exceed its first quarter's by 10% plus this.
    soak_slack_mb: float


FULL = Plan("full", soak_records=1_000_000, faults_scale=50, interrupt_scale=4,
            hostile_scale=1, soak_slack_mb=4)  # fmt: skip
#: Small sizes: the allocator's first arenas and the first batch's buffers weigh more than
#: 10% of a run this short, hence the larger absolute slack.
QUICK = Plan("quick", soak_records=3_000, faults_scale=2, interrupt_scale=2,
             hostile_scale=0.5, soak_slack_mb=16)  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """One kind of trouble for a run, the modes it runs in and the statuses it must end with."""

    name: str
    group: str
    modes: tuple[str, ...]
    #: The exit status of each run of the scenario, in order.
    expected: tuple[int, ...]
    #: What the row shows: the trouble, in a few words.
    note: str
    params: Mapping[str, Any] = field(default_factory=dict)


#: What each hostile kind sends (on page 2 of each resource, or in every page's headers).
HOSTILE_NOTES = {
    "deep": "a record nested 5,000 levels: rejected",
    "invalid_utf8": "a record with bytes that are not UTF-8: rejected",
    "nul": "NUL characters in a record: cleaned, stored",
    "long_string": "a 1,000,000-character body: rejected",
    "unicode": "text from every Unicode plane: stored",
    "sql": "SQL metacharacters in every field: stored as text",
    "wrong_types": "a string userId, a missing title: both rejected",
    "duplicate_ids": "page 2 repeats page 1's ids: stored once",
    "huge": "a 2 MB answer past a 1 MB limit: the page fails",
    "html": "an HTML error page sent as 200: the page fails",
    "not_array": "a JSON object, not an array: the page fails",
    "redirect": "a redirect to another host: refused, the page fails",
    "trickle": "an answer slower than the deadline: the page fails",
    "total_high": "X-Total-Count three times the truth",
    "total_low": "X-Total-Count half the truth",
    "link_loop": "no count, a Link whose next loops to page 1",
}


def _hostile(index: int, kind: str) -> Scenario:
    """Page 2 of each resource answered as ``kind``; the modes take turns (tests cover all)."""
    fails = kind in ANSWER_KINDS  # the page cannot be read: its records are rejected, exit 1
    options: dict[str, Any] = {}
    if kind == "huge":
        options = {"faults": {"huge_mb": 2.0}, "env": {"max_page_bytes": 1024 * 1024}}
    elif kind == "trickle":
        options = {"env": {"timeout_s": 0.5}}
    mode = ALL_MODES[index % len(ALL_MODES)]
    return Scenario(f"hostile-{kind}", "hostile", (mode,), (1 if fails else 0,),
                    f"{kind}: {HOSTILE_NOTES[kind]}", {"kind": kind, **options})  # fmt: skip


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("faults", "faults", ALL_MODES, (1,),
             "5% faults of every kind, one page always fails"),
    *(_hostile(i, kind) for i, kind in enumerate(HOSTILE_KINDS)),
    Scenario("sigterm", "signals", ALL_MODES, (signal_status(signal.SIGTERM), 0),
             "SIGTERM mid-run, then a resuming re-run", {"signal": signal.SIGTERM}),
    Scenario("sigint", "signals", ALL_MODES, (signal_status(signal.SIGINT), 0),
             "SIGINT mid-run, then a resuming re-run", {"signal": signal.SIGINT}),
    Scenario("sigkill", "kill", ALL_MODES, (signal_status(signal.SIGKILL), 0),
             "SIGKILL mid-run, then a re-run"),
    Scenario("pg-restarts", "restarts", ALL_MODES, (0,),
             "Postgres restarted while the run writes", {"restarts": 3}),
    Scenario("pg-outage", "outage", ALL_MODES, (1, 0),
             "Postgres down past the retries (exit 1), back, a re-run"),
    Scenario("redis-kill", "redis", ALL_MODES, (0,),
             "Redis killed mid-run: the run ends without the cache"),
    Scenario("soak", "soak", ALL_MODES, (1,),
             "5% faults of every kind, one page always fails"),
)  # fmt: skip

GROUPS: tuple[str, ...] = tuple(dict.fromkeys(s.group for s in SCENARIOS))


def parse_scenarios(
    text: str, modes: str = "", catalogue: tuple[Scenario, ...] = SCENARIOS
) -> tuple[Scenario, ...]:
    """Return the scenarios named in ``text`` (names or groups), limited to ``modes`` if given.

    Raise ``ConfigError`` for an unknown name or mode, or when nothing is left to run.
    """
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = {s.name for s in catalogue} | set(GROUPS)
    for name in names:
        if name not in known:
            raise ConfigError(
                f"--scenario {name!r}: expected scenario or group names among "
                f"{', '.join(GROUPS)} (or a scenario such as hostile-deep)"
            )
    wanted = [m.strip() for m in modes.split(",") if m.strip()]
    for mode in wanted:
        if mode not in MODES:
            raise ConfigError(f"--mode {mode!r}: expected modes among {', '.join(MODES)}")
    chosen = [s for s in catalogue if not names or s.name in names or s.group in names]
    if wanted:
        chosen = [replace(s, modes=tuple(m for m in s.modes if m in wanted)) for s in chosen]
        chosen = [s for s in chosen if s.modes]
    if not chosen:
        raise ConfigError("no scenario is left to run in the modes asked for")
    return tuple(chosen)

"""Each scenario group run once in one mode: the trouble made, the runs' statuses, the count.

Every runner starts the local API in a thread and runs ``workbench ingest`` as a user would
(``cli_runs``), makes its trouble (a signal, a kill, a restart, an outage) once records are
landing, and accounts for every record (``accounting.account``) before the row's database
goes. The soak runs in a fresh interpreter instead (``soak.soak_job``), its API in a
process of its own. Runs that stop a run midway read
pages of 10 from an API slowed by ``LATENCY_MS`` per answer, one transaction per page, so
the trouble lands mid-run. ``RUNNERS`` maps each scenario group to its runner.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from workbench.bench.memory import run_child
from workbench.db.postgres import PostgresStore
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread
from workbench.reliability.accounting import Accounting, SourceSpec, account
from workbench.reliability.cli_runs import HEARTBEAT_S, IngestCall, IngestProcess, run_to_end
from workbench.reliability.scenarios import Plan, Scenario
from workbench.reliability.soak import EVERY_FAULT, TIMEOUT_S
from workbench.reliability.workspace import Workspace

__all__ = ["RUNNERS", "Observed"]

SEED = 11
RESOURCES = ("posts", "comments")
#: Added to every answer of the runs that are stopped midway.
LATENCY_MS = 40.0
#: Records landed before the trouble starts: the run is well under way, far from its end.
MIDWAY = 100


@dataclass
class Observed:
    """What one row's runs did: their exit statuses, the count, and what else was seen."""

    statuses: list[int]
    accounting: Accounting
    #: What went wrong besides the count and the statuses (a run not abandoned, ...).
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


Runner = Callable[[Scenario, str, Plan, Workspace], Observed]


@contextmanager
def _slow_api(spec: SourceSpec) -> Iterator[ServerHandle]:
    """Serve ``spec``'s data set slowed by ``LATENCY_MS`` per answer."""
    faults = FaultConfig(latency_ms=LATENCY_MS)
    with serve_in_thread(seed=spec.seed, scale=spec.scale, faults=faults) as api:
        yield api


def _interrupt_spec(plan: Plan) -> SourceSpec:
    """Return the data of the runs stopped midway: pages of 10."""
    return SourceSpec(SEED, plan.interrupt_scale, RESOURCES, page_size=10)


@dataclass
class Stopped:
    """How a run that met its trouble midway ended: status, report, last stderr line."""

    status: int
    report: dict[str, Any]
    said: str


def _trouble_midway(
    call: IngestCall, trouble: Callable[[IngestProcess], None], problems: list[str]
) -> Stopped:
    """Run the command, make ``trouble`` once records land, and wait for the end."""
    with IngestProcess(call) as process:
        if not process.wait_for_records(MIDWAY):
            problems.append(f"the run did not reach {MIDWAY} records before the trouble")
        trouble(process)
        status = process.finish()
        said = (process.stderr().strip().splitlines() or [""])[-1]
        return Stopped(status, process.report() or {}, said)


def run_faults(scenario: Scenario, mode: str, plan: Plan, ws: Workspace) -> Observed:
    """Ingest through 5% faults of every kind and one page that always fails."""
    spec = SourceSpec(SEED, plan.faults_scale, RESOURCES, page_size=100)
    with ws.database() as dsn, serve_in_thread(seed=SEED, scale=spec.scale,
                                               faults=EVERY_FAULT) as api:  # fmt: skip
        call = IngestCall(api.url, mode, dsn, ws.redis_url, page_size=spec.page_size,
                          settings={"timeout_s": TIMEOUT_S, "batch_rows": 5000})  # fmt: skip
        status, _ = run_to_end(call)
        injected = sum(api.stats()["faults"].values())
        return Observed([status], account(dsn, call.source_name, spec),
                        notes=[f"{injected} faults injected"])  # fmt: skip


def run_hostile(scenario: Scenario, mode: str, plan: Plan, ws: Workspace) -> Observed:
    """Ingest with page 2 of each resource answered as one hostile kind."""
    kind = scenario.params["kind"]
    spec = SourceSpec(SEED, plan.hostile_scale, RESOURCES, page_size=10, hostile=(kind,))
    with ExitStack() as stack:
        dsn = stack.enter_context(ws.database())
        target = ""
        if kind == "redirect":  # another host: another loopback address
            other = stack.enter_context(serve_in_thread(seed=99, scale=0.5, host="127.0.0.2"))
            target = other.url
        faults = FaultConfig(hostile=(kind,), hostile_target=target,
                             **scenario.params.get("faults", {}))  # fmt: skip
        api = stack.enter_context(serve_in_thread(seed=SEED, scale=spec.scale, faults=faults))
        call = IngestCall(api.url, mode, dsn, ws.redis_url, settings=scenario.params.get("env"))
        status, _ = run_to_end(call)
        return Observed([status], account(dsn, call.source_name, spec))


def run_signal(scenario: Scenario, mode: str, plan: Plan, ws: Workspace) -> Observed:
    """Send SIGTERM or SIGINT mid-run through the CLI, then run again to resume."""
    spec, problems = _interrupt_spec(plan), list[str]()
    with ws.database() as dsn, _slow_api(spec) as api:
        call = IngestCall(api.url, mode, dsn, ws.redis_url)
        first = _trouble_midway(call, lambda run: run.send(scenario.params["signal"]), problems)
        if first.report.get("status") != "interrupted":
            problems.append(f"the stopped run reported {first.report.get('status')!r}")
        statuses = [first.status, run_to_end(call)[0]]
        note = f"stopped after {first.report.get('pages', '?')} pages"
        return Observed(statuses, account(dsn, call.source_name, spec), problems, [note])


def run_kill(scenario: Scenario, mode: str, plan: Plan, ws: Workspace) -> Observed:
    """SIGKILL the CLI and its workers mid-run, then run again; the first run is abandoned."""
    spec, problems = _interrupt_spec(plan), list[str]()
    with ws.database() as dsn, _slow_api(spec) as api:
        call = IngestCall(api.url, mode, dsn, ws.redis_url)
        first = _trouble_midway(call, IngestProcess.kill, problems)
        time.sleep(4 * HEARTBEAT_S + 0.5)  # silent for four beats: the next run abandons it
        statuses = [first.status, run_to_end(call)[0]]
        with PostgresStore(dsn, maxconn=1) as store:
            killed = store.runs(2)[-1]["status"]
        if killed != "abandoned":
            problems.append(f"the killed run is {killed!r}, not 'abandoned'")
        note = f"killed run marked {killed}"
        return Observed(statuses, account(dsn, call.source_name, spec), problems, [note])


def run_restarts(scenario: Scenario, mode: str, plan: Plan, ws: Workspace) -> Observed:
    """Restart a Postgres of the row's own several times while the run writes."""
    spec, problems, restarts = _interrupt_spec(plan), list[str](), list[float]()

    def restart(run: IngestProcess) -> None:
        while len(restarts) < scenario.params["restarts"] and run.running:
            postgres.restart()
            restarts.append(time.monotonic())
            time.sleep(0.3)  # a few pages between restarts

    with ws.throwaway_postgres() as postgres, _slow_api(spec) as api:
        call = IngestCall(api.url, mode, postgres.dsn, ws.redis_url,
                          settings={"retry_attempts": 12})  # fmt: skip
        run = _trouble_midway(call, restart, problems)
        if not restarts:
            problems.append("the run ended before the first restart")
        note = f"{len(restarts)} restarts mid-run"
        return Observed([run.status], account(postgres.dsn, call.source_name, spec), problems,
                        [note])  # fmt: skip


def run_outage(scenario: Scenario, mode: str, plan: Plan, ws: Workspace) -> Observed:
    """Stop Postgres mid-run for longer than the retries wait, start it again, run again."""
    spec, problems = _interrupt_spec(plan), list[str]()
    with ws.throwaway_postgres() as postgres, _slow_api(spec) as api:
        call = IngestCall(api.url, mode, postgres.dsn, ws.redis_url)
        first = _trouble_midway(call, lambda run: postgres.stop(), problems)
        postgres.start()
        statuses = [first.status, run_to_end(call)[0]]
        if "Postgres" not in first.said:
            problems.append(f"the failed run said {first.said!r}")
        return Observed(statuses, account(postgres.dsn, call.source_name, spec), problems)


def run_redis_kill(scenario: Scenario, mode: str, plan: Plan, ws: Workspace) -> Observed:
    """Kill a Valkey of the row's own mid-run: the run goes on without its cache.

    The cache is the Redis role a run can lose; queue mode's broker stays on the workspace's
    Redis (``queue_url``), as it would on a separate server (without it nothing can run).
    """
    spec, problems = _interrupt_spec(plan), list[str]()
    with ws.database() as dsn, ws.throwaway_valkey() as valkey, _slow_api(spec) as api:
        call = IngestCall(api.url, mode, dsn, valkey.url, settings={"queue_url": ws.redis_url})
        run = _trouble_midway(call, lambda run: valkey.kill(), problems)
        if run.report.get("cache_available") is not False:
            problems.append("the run did not notice Redis had gone")
        return Observed([run.status], account(dsn, call.source_name, spec), problems,
                        ["cache unavailable at the end"])  # fmt: skip


def run_soak(scenario: Scenario, mode: str, plan: Plan, ws: Workspace) -> Observed:
    """Soak ``plan.soak_records`` through every fault kind, watching memory and handles."""
    with ws.database() as dsn:
        job = {"mode": mode, "postgres_dsn": dsn, "redis_url": ws.redis_url,
               "records": plan.soak_records, "slack_mb": plan.soak_slack_mb}  # fmt: skip
        # A fresh interpreter: its tree holds the soak alone, not what earlier rows left.
        done = run_child("workbench.reliability.soak:soak_job", job).result
        spec = SourceSpec(**{**done["spec"], "resources": tuple(done["spec"]["resources"])})
        return Observed([done["status"]], account(dsn, "soak", spec), done["problems"],
                        [done["note"]])  # fmt: skip


RUNNERS: dict[str, Runner] = {
    "faults": run_faults,
    "hostile": run_hostile,
    "signals": run_signal,
    "kill": run_kill,
    "restarts": run_restarts,
    "outage": run_outage,
    "redis": run_redis_kill,
    "soak": run_soak,
}

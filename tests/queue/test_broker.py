"""The broker's Redis primitives on the real Redis: settle once, seal, touch, claim, give back."""

from __future__ import annotations

import time
from typing import Any

import pytest

from workbench.errors import ConfigError, UnknownJobError
from workbench.queue.broker import Broker
from workbench.queue.codec import decode_results, encode_units
from workbench.sources.source import WorkUnit

UNIT = WorkUnit("posts", 1, "http://api/posts?_page=1")


def new_job(broker: Broker, tasks: int = 1, job: str = "j1") -> list[str]:
    """Create a public job with ``tasks`` one-page tasks and seal it; return their ids."""
    broker.create_job(job, {"run_id": job}, public=True)
    ids = broker.add_tasks(job, [encode_units([UNIT])] * tasks)
    broker.seal(job)
    return ids


class TestJobs:
    """Creating and reading jobs."""

    def test_a_job_id_is_used_once_and_an_unknown_one_is_named(self, broker: Broker) -> None:
        """Creating a job twice is a ConfigError; reading a missing one is UnknownJobError."""
        new_job(broker)
        with pytest.raises(ConfigError, match="already exists"):
            broker.create_job("j1", {}, public=True)
        with pytest.raises(UnknownJobError, match="no job 'nope'"):
            broker.spec("nope")
        assert broker.active_jobs() == ["j1"]


class TestSettle:
    """Settling a task: acknowledge, count, report, close the job."""

    def test_only_the_first_settle_counts_and_the_last_task_closes_the_job(
        self, broker: Broker
    ) -> None:
        """A second settle of a task (a slow worker's) changes nothing; the job ends done."""
        new_job(broker, tasks=2)
        first, second = broker.read("a", ["j1"], block=False) + broker.read(
            "b", ["j1"], block=False
        )
        assert broker.settle(first, "done", counters={"pages": 1}) == (1, [])
        assert broker.settle(first, "done", counters={"pages": 1}) == (0, [])
        assert broker.settle(second, "done", counters={"pages": 1}) == (2, [])
        spec = broker.spec("j1")
        assert (spec["status"], spec["done"], spec["pages"]) == ("done", "2", "2")
        assert broker.client.xlen(broker.keys.tasks("j1")) == 0  # trimmed once done
        assert broker.client.ttl(broker.keys.job("j1")) > 0  # kept for a while, then gone
        reports = broker.results("j1", "0-0", block_ms=10)
        assert [fields["task"] for _, fields in reports] == [first.id, second.id]
        assert decode_results(reports[0][1]["results"]) == []

    def test_settling_can_take_the_next_task_in_the_same_round_trip(
        self, broker: Broker, round_trips: Any
    ) -> None:
        """With then_read, one round trip acknowledges a task and delivers the next one."""
        new_job(broker, tasks=3)
        [first] = broker.read("a", ["j1"], block=False)
        round_trips.reset()
        state, taken = broker.settle(first, "done", then_read=("a", ["j1"]))
        assert (state, len(taken), round_trips.count) == (1, 1, 1)
        assert taken[0].id != first.id and taken[0].deliveries == 1

    def test_a_server_that_lost_its_scripts_gets_them_again(self, broker: Broker) -> None:
        """After SCRIPT FLUSH (a restarted Redis), settling loads the script and goes on."""
        new_job(broker, tasks=2)
        [task] = broker.read("a", ["j1"], block=False)
        broker.client.script_flush()
        assert broker.settle(task, "done")[0] == 1

    def test_a_failed_task_leaves_its_pages_in_the_dead_letters(self, broker: Broker) -> None:
        """Settled as failed, the job ends failed with a dead letter naming the failed units."""
        new_job(broker)
        [task] = broker.read("a", ["j1"], block=False)
        fields = encode_units([UNIT])["units"]
        broker.settle(
            task, "failed", dead_fields=f'{{"units": {fields!r}}}'.replace("'", '"'), error="boom"
        )
        [(_, letter)] = broker.client.xrange(broker.keys.dead("j1"))
        assert (letter["error"], letter["task"]) == ("boom", task.id)
        assert broker.spec("j1")["status"] == "failed"


class TestWithdraw:
    """A stopping run takes back the tasks no worker has read."""

    def test_only_unread_tasks_are_withdrawn_and_uncounted(self, broker: Broker) -> None:
        """A task a worker read stays (it will be settled); the unread ones go, uncounted."""
        broker.create_job("j1", {"run_id": "j1"}, public=False)
        ids = broker.add_tasks("j1", [encode_units([UNIT])] * 3)
        [read] = broker.read("a", ["j1"], block=False)  # one task of each job
        assert sorted(broker.withdraw("j1", ids)) == sorted(set(ids) - {read.id})
        assert broker.spec("j1")["tasks"] == "1"
        assert broker.read("b", ["j1"], block=False) == []  # nothing left to deliver
        assert broker.settle(read, "done")[0] == 1
        assert broker.withdraw("j1", ids) == []  # settled and withdrawn ones: nothing to do


class TestVisibility:
    """Claims after the visibility timeout, and what keeps a live worker's task."""

    def test_an_idle_task_is_claimed_with_its_delivery_count(self, broker: Broker) -> None:
        """Past idle_s, another consumer claims the task and sees it delivered twice."""
        new_job(broker)
        [task] = broker.read("a", ["j1"], block=False)
        assert broker.claim("b", "j1") == []  # not idle long enough yet
        time.sleep(broker.options.idle_s + 0.1)
        [claimed] = broker.claim("b", "j1")
        assert (claimed.id, claimed.deliveries) == (task.id, 2)
        assert broker.spec("j1")["claimed"] == "1"

    def test_a_touched_task_is_not_claimed(self, broker: Broker) -> None:
        """A heartbeat's touch resets the idle time of a task its worker still holds."""
        new_job(broker)
        [task] = broker.read("a", ["j1"], block=False)
        time.sleep(broker.options.idle_s * 0.7)
        broker.touch("a", [task])
        time.sleep(broker.options.idle_s * 0.5)
        assert broker.claim("b", "j1") == []

    def test_a_given_back_task_is_claimable_at_once_and_uncounted(self, broker: Broker) -> None:
        """Given back, a task is claimed right away, as if the give-back was no delivery."""
        new_job(broker)
        [task] = broker.read("a", ["j1"], block=False)
        broker.give_back("a", [task])
        [claimed] = broker.claim("b", "j1")
        assert (claimed.id, claimed.deliveries) == (task.id, 1)


def test_the_registry_keeps_each_workers_last_heartbeat(broker: Any) -> None:
    """A beat records what a worker does and when; leaving removes it."""
    broker.beat("w1", {"state": "busy", "task": "1-0"})
    [(name, info)] = broker.workers().items()
    assert (name, info["state"], info["task"]) == ("w1", "busy", "1-0")
    assert abs(info["beat"] - time.time()) < 60
    broker.leave("w1")
    assert broker.workers() == {}

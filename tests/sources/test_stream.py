"""Records on a Redis stream as a source: produced at a rate, consumed with ack as checkpoint."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

import redis

from workbench.db.connections import Connections
from workbench.db.postgres import PostgresStore
from workbench.local_api import Dataset, ServerHandle
from workbench.services.common import wait_until
from workbench.sources.producer import produce
from workbench.sources.stream import StreamConsumer, StreamSource

STREAM = "wb:src:test"
TIMEOUT_S = 60.0


def command(*args: str) -> list[str]:
    """Return the command line of ``workbench source ...``."""
    return [sys.executable, "-m", "workbench", "source", *args]


class TestConsumerKilled:
    """A consumer SIGKILLed while records flow, then restarted under the same name."""

    def test_it_resumes_where_it_acknowledged_and_loses_nothing(
        self, source: ServerHandle, cli_env: dict[str, str], postgres_dsn: str,
        redis_url: str, expected_of: Any, stored: Any,
    ) -> None:  # fmt: skip
        """Every record lands once; the restart reads only what was not acknowledged."""
        produce_ = ["produce", "--stream", STREAM, "--base-url", source.url, "--rate", "100"]
        consume = ["consume", "--stream", STREAM, "--consumer", "c1", "--count", "10"]
        consume += ["--resource", "posts,comments", "--source-name", "local"]
        client = redis.Redis.from_url(redis_url)
        store = PostgresStore(postgres_dsn)
        consumer = subprocess.Popen(command(*consume), env=cli_env, stdout=subprocess.DEVNULL)
        running = [consumer]
        try:
            # Records flow only once the consumer reads: it is killed mid-flow, however slow
            # this machine is to start it.
            store.ensure_schema()
            consuming = lambda: [r for r in store.runs(5) if r["status"] == "running"]  # noqa: E731
            assert wait_until(consuming, timeout=TIMEOUT_S)
            producer = subprocess.Popen(
                command(*produce_, "--resource", "posts,comments"), env=cli_env,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            running.append(producer)
            pending = lambda: client.xpending_range(STREAM, "workbench", "-", "+", 1, "c1")  # noqa: E731
            assert wait_until(lambda: store.count("local") > 0 and pending(), timeout=TIMEOUT_S)
            consumer.send_signal(signal.SIGKILL)
            assert consumer.wait(timeout=TIMEOUT_S) == -signal.SIGKILL
            before = store.count("local")
            assert producer.wait(timeout=TIMEOUT_S) == 0
            done = subprocess.run(
                command(*consume, "--until-empty"), env=cli_env, capture_output=True, text=True,
                timeout=TIMEOUT_S,
            )  # fmt: skip
        finally:
            for process in running:
                if process.poll() is None:
                    process.kill()
                process.wait(timeout=TIMEOUT_S)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout.splitlines()[-1])
        expected = expected_of(source)
        assert 0 < before < expected.records
        assert expected.records - before <= report["fetched"] < expected.records
        assert store.count("local") == expected.records
        assert stored(store) == expected.checksums
        [group] = client.xinfo_groups(STREAM)
        assert (group["pending"], group["lag"]) == (0, 0)
        store.close()
        client.close()


class TestStreamConsumer:
    """The consumer in this process, on records some of which are invalid."""

    def test_valid_records_land_invalid_ones_are_rejected_and_all_acked(
        self, postgres_dsn: str, redis_url: str
    ) -> None:
        """21 valid posts stored, 4 rejects with reasons, nothing left pending, drained."""
        posts: list[Any] = Dataset(seed=5, scale=0.5).slice("posts", 0, 25)
        posts[2], posts[11] = {**posts[2], "userId": "one"}, 42
        posts[13] = {k: v for k, v in posts[13].items() if k != "title"}
        posts[24] = {**posts[24], "id": 0}
        client = redis.Redis.from_url(redis_url)
        assert produce(client, STREAM, [("posts", post) for post in posts]) == 25
        source = StreamSource(redis_url, STREAM, consumer="c1", count=10, name="s")
        consumer = StreamConsumer(source, Connections(postgres_dsn, redis_url))
        try:
            report = consumer.run(until_empty=True)
        finally:
            consumer.close()
        assert report.ok
        assert (report.fetched, report.inserted, report.rejected) == (25, 21, 4)
        with PostgresStore(postgres_dsn) as store:
            assert store.count("s", "posts") == 21
            assert len(store.rejects("s")) == 4
            assert store.runs(1)[0]["mode"] == "stream"
        [group] = client.xinfo_groups(STREAM)
        assert (group["pending"], group["lag"]) == (0, 0)
        client.close()

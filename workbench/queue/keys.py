"""Every Redis key of the task queue, under the cache's namespace (``<ns>:q:...``).

    <ns>:q:jobs                 sorted set: every job id, by creation time
    <ns>:q:active               set: the jobs any ``workbench worker`` serves
    <ns>:q:workers              hash: worker name -> its last heartbeat (JSON)
    <ns>:q:{<job>}              hash: the job's spec, status and counters
    <ns>:q:{<job>}:tasks        stream + consumer group ``workers``: the tasks
    <ns>:q:{<job>}:results      stream: each settled task's page results
    <ns>:q:{<job>}:dead         stream: the dead letters, each with its last error
    <ns>:q:{<job>}:errors       hash: task id -> the error of its last failed delivery

The braces make a job's keys one hash slot, so the scripts that touch them together would
run on a Redis Cluster too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbench.errors import ConfigError

__all__ = ["GROUP", "QueueKeys", "check_job_id"]

#: The consumer group every job's task stream is read through.
GROUP = "workers"

_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_job_id(job: str) -> str:
    """Return ``job`` if it is a valid job id (letters, digits, ``_.-``; 64 at most)."""
    if not _JOB_ID.fullmatch(job):
        raise ConfigError(f"job id {job!r} is invalid: expected letters, digits, '_', '.' or '-'")
    return job


@dataclass(frozen=True, slots=True)
class QueueKeys:
    """Build the queue's keys under one namespace (the cache's, so Playgrounds stay apart)."""

    namespace: str = "wb"

    @property
    def jobs(self) -> str:
        """Return the sorted set of every job id."""
        return f"{self.namespace}:q:jobs"

    @property
    def active(self) -> str:
        """Return the set of jobs that ``workbench worker`` processes serve."""
        return f"{self.namespace}:q:active"

    @property
    def workers(self) -> str:
        """Return the hash of workers' heartbeats."""
        return f"{self.namespace}:q:workers"

    def job(self, job: str) -> str:
        """Return the hash of one job's spec, status and counters."""
        return f"{self.namespace}:q:{{{check_job_id(job)}}}"

    def tasks(self, job: str) -> str:
        """Return the stream of one job's tasks."""
        return f"{self.job(job)}:tasks"

    def results(self, job: str) -> str:
        """Return the stream of one job's settled tasks and their page results."""
        return f"{self.job(job)}:results"

    def dead(self, job: str) -> str:
        """Return the stream of one job's dead letters."""
        return f"{self.job(job)}:dead"

    def errors(self, job: str) -> str:
        """Return the hash of one job's last delivery errors, by task id."""
        return f"{self.job(job)}:errors"

    def of_job(self, job: str) -> list[str]:
        """Return every key of one job, in the order the settle script takes them."""
        return [self.tasks(job), self.job(job), self.results(job), self.dead(job), self.errors(job)]

    def job_of(self, stream: str) -> str:
        """Return the job id of one of its task streams."""
        return stream[len(self.namespace) + 4 : -len("}:tasks")]

"""Concept figures: the GIL schedule they draw, and what each picture names."""

from __future__ import annotations

import itertools

import pytest

from workbench.concept_figures import (
    RUNNING,
    WAITING_GIL,
    WAITING_IO,
    Slice,
    event_loop_figure,
    gil_figure,
    gil_schedule,
    processes_figure,
)


def running(slices: list[Slice]) -> list[Slice]:
    """Return the slices in which a thread held the GIL, in time order."""
    return sorted((s for s in slices if s.state == RUNNING), key=lambda s: s.start)


def texts(figure: object) -> str:
    """Return every text drawn on a figure's axes, joined."""
    return " ".join(t.get_text() for ax in figure.axes for t in ax.texts)  # type: ignore[attr-defined]


class TestGilSchedule:
    """One thread holds the GIL at a time; I/O waits release it."""

    def test_cpu_bound_threads_take_turns_of_one_switch_interval(self) -> None:
        """Three computing threads hold the GIL in turn, 5 ms each, never two at once."""
        slices = gil_schedule(3, cpu_ms=100, switch_ms=5, total_ms=60)
        held = running(slices)
        assert all(b.start >= a.end - 1e-9 for a, b in itertools.pairwise(held))
        assert all(s.end - s.start == pytest.approx(5) for s in held)
        assert [s.thread for s in held[:6]] == [0, 1, 2, 0, 1, 2]
        assert sum(s.end - s.start for s in held) == pytest.approx(60)
        assert {s.state for s in slices} == {RUNNING, WAITING_GIL}

    def test_io_bound_threads_wait_at_the_same_time(self) -> None:
        """Threads that compute 1 ms then wait 12 ms overlap their waits, not their computing."""
        slices = gil_schedule(3, cpu_ms=1, io_ms=12, switch_ms=5, total_ms=40)
        held = running(slices)
        assert all(b.start >= a.end - 1e-9 for a, b in itertools.pairwise(held))
        waits = [s for s in slices if s.state == WAITING_IO]
        assert any(
            a.thread != b.thread and a.start < b.end and b.start < a.end
            for a, b in itertools.combinations(waits, 2)
        )
        assert sum(s.end - s.start for s in held) < 40 / 2  # mostly nobody needs the GIL

    def test_a_lone_thread_never_waits_for_the_gil(self) -> None:
        """With no other thread, computing runs on with no hand-over."""
        slices = gil_schedule(1, cpu_ms=100, total_ms=30)
        assert slices == [Slice(0, 0.0, 30.0, RUNNING)]


class TestFigures:
    """Each figure draws its concept with the words the notebooks use."""

    def test_gil_figure_has_both_workloads(self) -> None:
        """Two panels, CPU-bound then I/O-bound, each with a GIL row and a row per thread."""
        figure = gil_figure(threads=3)
        assert [ax.get_title().split(":")[0] for ax in figure.axes] == ["CPU-bound", "I/O-bound"]
        labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
        assert labels == ["GIL held by", "thread 0", "thread 1", "thread 2"]

    def test_processes_figure_names_each_process_and_what_crosses(self) -> None:
        """The parent, the fork server and each worker, with pickled jobs and pages between."""
        drawn = texts(processes_figure(processes=3))
        for name in ("parent process", "fork server", "worker process 3", "Job, pickled"):
            assert name in drawn
        assert drawn.count("its own interpreter + GIL") == 3

    def test_event_loop_figure_names_what_tasks_wait_on(self) -> None:
        """Ready, running and parked tasks, and the warning about blocking calls."""
        drawn = texts(event_loop_figure(tasks=6))
        for name in ("ready", "task-0", "asyncio.sleep", "asyncio.to_thread", "blocking call"):
            assert name in drawn

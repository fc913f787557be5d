"""Concept figures for the concurrency notebooks: pictures of a model, not measurements.

* ``gil_figure``: threads handing the GIL to one another, CPU-bound (they take turns, one
  at a time) and I/O-bound (each lets go while it waits, so the waits overlap), drawn from
  ``gil_schedule``, a small simulation of CPython's switch interval;
* ``processes_figure``: a run's processes, each with its own interpreter and GIL, forked from
  the fork server, exchanging pickled jobs and pages with the parent, which alone writes;
* ``event_loop_figure``: one thread, one task running, the others ready or parked on what
  they await; a blocking call in the running task stops them all.

Measured pictures (timelines of real runs) are in ``workbench.plots``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Slice", "event_loop_figure", "gil_figure", "gil_schedule", "processes_figure"]

RUNNING, WAITING_GIL, WAITING_IO = (
    "running (holds the GIL)",
    "waiting for the GIL",
    "I/O wait (GIL released)",
)
THREAD_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860")
STATE_STYLE = {WAITING_GIL: {"color": "#d9d9d9"}, WAITING_IO: {"color": "#cfe3f5", "hatch": "//"}}


@dataclass(frozen=True, slots=True)
class Slice:
    """What one thread was doing from ``start`` to ``end`` (milliseconds)."""

    thread: int
    start: float
    end: float
    state: str


def gil_schedule(
    threads: int = 3,
    *,
    cpu_ms: float,
    io_ms: float = 0.0,
    switch_ms: float = 5.0,
    total_ms: float = 60.0,
) -> list[Slice]:
    """Simulate threads that each compute ``cpu_ms`` then wait ``io_ms``, over and over.

    One thread at a time holds the GIL. It keeps it until its computing is done (then it
    waits for I/O without it) or, when another thread wants it, for one ``switch_ms``
    interval (``sys.getswitchinterval()``); the GIL then goes to the thread that has waited
    longest. ``io_ms=0`` is a thread that only computes.
    """
    remaining = dict.fromkeys(range(threads), cpu_ms)
    ready: deque[int] = deque(range(threads))
    since = dict.fromkeys(range(threads), 0.0)  # when each ready thread began to wait
    waking: dict[int, float] = {}  # thread -> when its I/O wait ends
    slices: list[Slice] = []
    now = 0.0

    def wake(until: float) -> None:
        for thread, at in sorted(waking.items(), key=lambda item: item[1]):
            if at <= until:
                del waking[thread]
                ready.append(thread)
                since[thread], remaining[thread] = at, cpu_ms

    while now < total_ms:
        wake(now)
        if not ready:
            now = min(waking.values())
            continue
        thread = ready.popleft()
        if since[thread] < now:
            slices.append(Slice(thread, since[thread], now, WAITING_GIL))
        while True:  # run until done, or until the interval ends with another thread waiting
            chunk = min(remaining[thread], switch_ms, total_ms - now)
            slices.append(Slice(thread, now, now + chunk, RUNNING))
            now += chunk
            remaining[thread] -= chunk
            wake(now)
            if now >= total_ms or remaining[thread] <= 0 or ready:
                break
        if remaining[thread] <= 0 and io_ms > 0:
            waking[thread] = now + io_ms
            slices.append(Slice(thread, now, min(now + io_ms, total_ms), WAITING_IO))
        else:
            remaining[thread] = remaining[thread] if remaining[thread] > 0 else cpu_ms
            ready.append(thread)
            since[thread] = now
    return _merged(slices)


def _merged(slices: list[Slice]) -> list[Slice]:
    """Join each thread's back-to-back slices in the same state into one."""
    merged: list[Slice] = []
    for piece in sorted(slices, key=lambda s: (s.thread, s.start)):
        last = merged[-1] if merged else None
        if (
            last
            and (last.thread, last.state) == (piece.thread, piece.state)
            and last.end >= piece.start
        ):
            merged[-1] = Slice(piece.thread, last.start, max(last.end, piece.end), piece.state)
        elif piece.end > piece.start:
            merged.append(piece)
    return merged


def draw_gil(ax: Axes, slices: list[Slice], *, title: str) -> None:
    """Draw a schedule: a row showing who holds the GIL, then a row per thread."""
    threads = sorted({piece.thread for piece in slices})
    for piece in slices:
        row = 1 + threads.index(piece.thread)
        colour = THREAD_COLOURS[piece.thread % len(THREAD_COLOURS)]
        style = STATE_STYLE.get(piece.state, {"color": colour})
        span = [(piece.start, piece.end - piece.start)]
        ax.broken_barh(span, (row - 0.35, 0.7), facecolors=style["color"],
                       hatch=style.get("hatch"), edgecolor="white")  # fmt: skip
        if piece.state == RUNNING:  # the GIL row: whoever runs holds it
            ax.broken_barh(span, (-0.35, 0.7), facecolors=colour)
    ax.set_yticks(
        range(len(threads) + 1), labels=["GIL held by", *(f"thread {t}" for t in threads)]
    )
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("milliseconds")


def gil_figure(threads: int = 3, *, switch_ms: float = 5.0, total_ms: float = 60.0) -> Figure:
    """Return the GIL handed between threads: CPU-bound threads, then I/O-bound ones."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    cpu = gil_schedule(threads, cpu_ms=total_ms, switch_ms=switch_ms, total_ms=total_ms)
    io = gil_schedule(threads, cpu_ms=1.0, io_ms=12.0, switch_ms=switch_ms, total_ms=total_ms)
    figure, axes = plt.subplots(2, 1, figsize=(10, 4.6), sharex=True)
    draw_gil(axes[0], cpu, title=f"CPU-bound: {threads} threads take turns, {switch_ms:g} ms each")
    draw_gil(axes[1], io, title="I/O-bound: each lets the GIL go while it waits; the waits overlap")
    handles = [Patch(facecolor=THREAD_COLOURS[0], label=RUNNING)]
    handles += [
        Patch(facecolor=s["color"], hatch=s.get("hatch"), label=k) for k, s in STATE_STYLE.items()
    ]
    figure.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    return figure


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, colour: str) -> None:
    """Draw a rounded box with centred text (axes coordinates 0..10)."""
    from matplotlib.patches import FancyBboxPatch

    box = FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", facecolor=colour)
    box.set_edgecolor("#404040")
    ax.add_patch(box)
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=8)


def _arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    text: str = "",
    *,
    bend: float = 0.0,
    at: tuple[float, float] | None = None,
) -> None:
    """Draw an arrow from ``start`` to ``end`` (curved by ``bend``), labelled at ``at``."""
    style = {
        "arrowstyle": "->",
        "color": "#404040",
        "lw": 1.2,
        "connectionstyle": f"arc3,rad={bend}",
    }
    ax.annotate("", end, start, arrowprops=style)
    if text:
        where = at or ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        ax.text(*where, text, ha="center", va="center", fontsize=7, backgroundcolor="white")


def _canvas(title: str, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """Return a blank figure whose axes run from 0 to 10 both ways."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=size)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return figure, ax


PARENT = (
    "parent process\ninterpreter + GIL\n\nrunner: schedules jobs\n"
    "writer: batches, one\nPostgres transaction each"
)
WORKER = (
    "worker process {}\nits own interpreter + GIL\nfetch (its own session)\nprocess (the CPU work)"
)


def processes_figure(processes: int = 2) -> Figure:
    """Return a run's processes: the parent, the fork server and workers, each its own GIL."""
    figure, ax = _canvas("multiprocess: one interpreter and one GIL per process", (10, 4.8))
    _box(ax, 0.2, 3.4, 2.6, 3.4, PARENT, "#e8eef8")
    _box(ax, 7.4, 7.9, 2.4, 1.5, "fork server\nimported workbench once", "#f2f2f2")
    _box(ax, 7.8, 0.4, 2.0, 1.6, "source API", "#fdf1e6")
    _box(ax, 0.4, 0.4, 2.2, 1.3, "Postgres", "#fdf1e6")
    _arrow(ax, (1.5, 3.4), (1.5, 1.7), "only the parent writes")
    _arrow(
        ax, (2.4, 6.8), (7.4, 8.9), "started once per kernel or command", bend=-0.15, at=(4.6, 8.9)
    )
    height = 7.4 / processes
    for index in range(processes):
        top = 7.6 - index * height
        bottom = top - height + 0.6
        centre = (top + bottom) / 2
        _box(ax, 4.2, bottom, 2.6, top - bottom, WORKER.format(index + 1), "#eaf4ea")
        first = index == 0
        _arrow(ax, (2.8, 5.6), (4.2, centre + 0.3), "Job, pickled" if first else "")
        _arrow(ax, (4.2, centre - 0.3), (2.8, 4.6), "ReadyPage, pickled" if first else "")
        _arrow(ax, (7.6, 7.9), (6.8, top - 0.3), "fork" if first else "")
        _arrow(ax, (6.8, centre - 0.4), (7.8, 1.6), "HTTP" if first else "")
    return figure


RUNNING_TASK = "running on the loop's\nthread\n\ntask-0\nuntil its next await"
BLOCKING = (
    "A blocking call in the running task (time.sleep, requests, psycopg2,\nheavy CPU) never "
    "reaches an await: nothing else runs, no timer fires,\nno socket is read until it returns. "
    "Move it off the loop: asyncio.to_thread\nor a process pool."
)


def event_loop_figure(tasks: int = 6) -> Figure:
    """Return the event loop: one running task, the ready ones, those parked on an await."""
    figure, ax = _canvas("asyncio: one thread, one task running at a time", (10, 4.6))
    waits = ["a socket read (aiohttp)", "a timer (asyncio.sleep)", "a thread (asyncio.to_thread)"]
    ready = [f"task-{n}" for n in range(1, max(2, tasks // 2))]
    parked = [f"task-{n}" for n in range(len(ready) + 1, tasks)]
    _box(ax, 0.2, 6.0, 2.4, 3.4, "ready\n\n" + "\n".join(ready), "#eaf4ea")
    _box(ax, 3.5, 6.0, 2.6, 3.4, RUNNING_TASK, "#e8eef8")
    lines = [f"{task} awaits\n{waits[i % len(waits)]}" for i, task in enumerate(parked)]
    _box(ax, 7.0, 5.0, 2.8, 4.4, "parked\n\n" + "\n".join(lines), "#fdf1e6")
    _arrow(ax, (2.6, 7.7), (3.5, 7.7), "next")
    _arrow(ax, (6.1, 7.7), (7.0, 7.7), "await")
    woken = "what it awaited is ready: the selector wakes it"
    _arrow(ax, (8.4, 5.0), (1.4, 6.0), woken, bend=-0.25, at=(5.0, 3.9))
    _box(ax, 1.2, 0.3, 7.6, 2.2, BLOCKING, "#f8e5e5")
    return figure

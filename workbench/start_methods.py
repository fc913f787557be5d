"""Process pools in scripts: the start methods, and why ``if __name__ == "__main__":`` matters.

A worker started by *spawn* or *forkserver* is a fresh interpreter: to find the function it
must run, it imports the parent's main module again (as ``__mp_main__``). A script that
starts its pool at module level, unguarded, starts another pool in every worker while it is
still booting, and ``multiprocessing`` refuses. *fork* copies the parent instead and never
re-imports, so the same script works there: until it meets a platform or Python whose
default is not fork (macOS and Windows: spawn; Linux from Python 3.14: forkserver).

``run_script(method, guarded)`` writes such a script and runs it with this interpreter, so
each combination can be seen for real.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SCRIPT", "ScriptRun", "run_script", "script"]

SCRIPT = """\
import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def square(n: int) -> int:
    return n * n


def main() -> None:
    context = multiprocessing.get_context({method!r})
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        print("squares:", list(pool.map(square, range(5))))


{entry}
"""
#: ``ValueError: ...``, ``concurrent.futures.process.BrokenProcessPool: ...``
EXCEPTION_LINE = re.compile(r"^(?:[a-z_]\w*\.)*[A-Z]\w*: ")
#: The first sentence of a worker's ``RuntimeError`` (the bootstrapping phase).
WORKER_ERROR = re.compile(r"(An attempt has been made[^.]*\.)")
#: That message's lines are indented 8 spaces; a traceback's are indented 2 (``File``) or 4 (code).
MESSAGE_INDENT = " " * 8
GUARDED = 'if __name__ == "__main__":\n    main()'
UNGUARDED = "main()  # no guard: runs again in every worker that re-imports this file"


def script(method: str, *, guarded: bool) -> str:
    """Return the text of a script that squares five numbers on a pool started by ``method``."""
    return SCRIPT.format(method=method, entry=GUARDED if guarded else UNGUARDED)


@dataclass(frozen=True)
class ScriptRun:
    """How one script ended: its exit status, its last word, and what its workers raised."""

    method: str
    guarded: bool
    returncode: int
    #: The squares it printed, or the exception the script itself ended with.
    said: str
    #: The first error a worker raised while starting (empty when none did).
    worker_error: str = ""

    @property
    def ok(self) -> bool:
        """Return True when the script squared its numbers and exited 0."""
        return self.returncode == 0 and self.said.startswith("squares:")


def run_script(method: str, *, guarded: bool, timeout_s: float = 120.0) -> ScriptRun:
    """Run the script for ``method`` (guarded or not) in a new interpreter and say how it ended."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "squares.py"
        path.write_text(script(method, guarded=guarded))
        done = subprocess.run(
            [sys.executable, str(path)], capture_output=True, text=True, timeout=timeout_s,
            cwd=folder, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    out, err = done.stdout.strip().splitlines(), done.stderr.strip().splitlines()
    said = out[-1] if done.returncode == 0 and out else _raised(err)
    return ScriptRun(method, guarded, done.returncode, said, _worker_error(done.stderr))


def _raised(lines: list[str]) -> str:
    """Return the last exception line in ``lines`` (else the last line).

    Not simply the last line: the resource tracker may warn about leaked semaphores after
    the traceback, and the workers' tracebacks interleave with the script's own.
    """
    raised = [line for line in lines if EXCEPTION_LINE.match(line)]
    mine = [line for line in raised if not line.startswith("RuntimeError:")]
    return (mine or raised or lines or [""])[-1]


def _worker_error(stderr: str) -> str:
    """Return the ``RuntimeError`` a worker raised while booting, on one line, if any.

    Its message spans several lines, and both workers print theirs at once, a line at a time
    (stderr is line-buffered), so the two copies may interleave with each other and with a
    traceback. The message is read from the lines indented as it is, each line taken once.
    """
    lines = stderr.splitlines()
    if not any(line.startswith("RuntimeError:") for line in lines):
        return ""
    message: list[str] = []
    for line in lines:
        text = line.strip()
        if line.startswith(MESSAGE_INDENT) and text.strip("^~") and text not in message:
            message.append(text)  # carets under a traceback's code are indented too
    found = WORKER_ERROR.search(" ".join(message))
    return f"RuntimeError: {found.group(1)}" if found else ""

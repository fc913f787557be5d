"""Process pools in scripts: which start methods need the ``__main__`` guard."""

from __future__ import annotations

import multiprocessing

import pytest

from workbench.start_methods import run_script, script

FRESH = [m for m in ("spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]


class TestScripts:
    """The same script, guarded or not, run by a new interpreter."""

    @pytest.mark.parametrize("method", FRESH)
    def test_a_fresh_interpreter_needs_the_guard(self, method: str) -> None:
        """Unguarded, each worker re-runs the script while booting: it refuses, the pool breaks."""
        run = run_script(method, guarded=False)
        assert run.returncode != 0 and not run.ok
        assert "bootstrapping phase" in run.worker_error
        assert "BrokenProcessPool" in run.said

    @pytest.mark.parametrize("method", FRESH)
    def test_guarded_it_squares(self, method: str) -> None:
        """With the guard, the workers import the script without running main again."""
        run = run_script(method, guarded=True)
        assert run.ok and run.said == "squares: [0, 1, 4, 9, 16]" and not run.worker_error

    @pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
    def test_fork_never_re_imports_the_script(self) -> None:
        """A forked worker is a copy of the parent: the unguarded script works there."""
        assert run_script("fork", guarded=False).ok

    def test_the_script_names_its_start_method(self) -> None:
        """The script asks for the context it was written for, and says whether it is guarded."""
        text = script("forkserver", guarded=True)
        assert "get_context('forkserver')" in text and 'if __name__ == "__main__":' in text


def test_the_last_traceback_names_what_the_script_raised() -> None:
    """A resource-tracker warning after the traceback does not hide the exception."""
    from workbench.start_methods import _raised

    lines = [
        "Traceback (most recent call last):",
        '  File "squares.py", line 9',
        "concurrent.futures.process.BrokenProcessPool: A process in the pool was terminated",
        "/usr/lib/python3.11/multiprocessing/resource_tracker.py:254: UserWarning: leaked",
        "  warnings.warn('resource_tracker: There appear to be %d '",
    ]
    assert _raised(lines).startswith("concurrent.futures.process.BrokenProcessPool:")
    assert _raised(["only this"]) == "only this" and _raised([]) == ""


WORKER_TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/usr/lib/python3.11/multiprocessing/spawn.py", line 140, in _check_not_importing_main',
    "    raise RuntimeError('''",
    "RuntimeError: ",
    "        An attempt has been made to start a new process before the",
    "        current process has finished its bootstrapping phase.",
    "",
    "        This probably means that you are not using fork to start your",
]
FIRST_SENTENCE = (
    "RuntimeError: An attempt has been made to start a new process before the"
    " current process has finished its bootstrapping phase."
)


class TestWorkerError:
    """The worker's error is read from stderr, however the workers' lines interleave."""

    def test_one_worker_alone(self) -> None:
        """A single traceback gives the message's first sentence on one line."""
        from workbench.start_methods import _worker_error

        assert _worker_error("\n".join(WORKER_TRACEBACK)) == FIRST_SENTENCE

    @pytest.mark.parametrize("lag", [0, 1, 2, 4])
    def test_two_workers_printing_at_once(self, lag: int) -> None:
        """Two copies interleaved line by line, one behind the other, still give one sentence."""
        from workbench.start_methods import _worker_error

        ahead, behind = WORKER_TRACEBACK, [""] * lag + WORKER_TRACEBACK
        lines = [line for pair in zip(ahead + [""] * lag, behind, strict=True) for line in pair]
        assert _worker_error("\n".join(lines)) == FIRST_SENTENCE

    def test_no_runtime_error_means_none(self) -> None:
        """A traceback without a RuntimeError, or clean output, names no worker error."""
        from workbench.start_methods import _worker_error

        assert _worker_error("squares: [0, 1, 4, 9, 16]") == ""
        without = [line for line in WORKER_TRACEBACK if not line.startswith("RuntimeError")]
        assert _worker_error("\n".join(without)) == ""

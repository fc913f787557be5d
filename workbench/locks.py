"""The dependency locks: made by uv from their inputs, checked for staleness, digested.

Two environments are locked, every package pinned with its hashes, in requirements files
that plain pip installs (``pip install --require-hashes -r ...``):

- ``requirements-lock.txt``: the project's ``.venv`` (runtime and the dev extra, and the
  build backend so ``pip install --no-deps --no-build-isolation -e .`` needs nothing else),
  from ``pyproject.toml``;
- ``benchmarks/peer-requirements.txt``: the dlt peer's venv, from
  ``benchmarks/peer-requirements.in``.

``uv pip compile --universal`` resolves once for every Python from the project's floor up and
every platform (markers pick the right pin), so one lock serves CI's 3.11 to 3.13. Each lock's
header records a digest of its inputs (for pyproject.toml, its dependency tables only, so a
comment or a tool setting changes nothing); ``check`` compares it with the inputs as they are
now. ``python -m workbench.locks check|refresh`` (``make lock-check``, ``make lock``) needs only
the standard library for ``check``, so CI runs it before building anything.

Why uv rather than pip-tools' pip-compile: pip-compile resolves for the interpreter it runs
on, so CI's three Pythons would need three locks (numpy, contourpy and soupsieve already pin
differently below and above 3.12); uv resolves once for all of them, writes hashes for every
wheel, takes seconds, and is one self-contained wheel that brings nothing into the dependency
tree it locks. Its output is a plain requirements file: installing needs pip alone.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "LOCKS",
    "Lock",
    "file_digest",
    "input_digest",
    "main",
    "recorded_digest",
    "refresh",
    "stale",
    "stamp",
]

#: The header line that carries the inputs' digest.
DIGEST_PREFIX = "# inputs-sha256: "
#: The command a lock's header names as its maker.
COMMAND = "make lock"


@dataclass(frozen=True)
class Lock:
    """One locked environment: its lock file and what it is made from."""

    path: str  # the lock, relative to the project
    source: str  # its input: pyproject.toml or a requirements .in file

    def inputs(self, root: Path) -> tuple[list[str], str]:
        """Return uv's input arguments and the requirements it reads from stdin."""
        if self.source != "pyproject.toml":
            return [self.source], ""
        build = _dependency_tables(root)["build-system.requires"]
        return ["pyproject.toml", "-", "--extra", "dev"], "".join(f"{r}\n" for r in build)


LOCKS = (
    Lock("requirements-lock.txt", "pyproject.toml"),
    Lock("benchmarks/peer-requirements.txt", "benchmarks/peer-requirements.in"),
)


def _pyproject(root: Path) -> dict[str, object]:
    """Return pyproject.toml, parsed."""
    with (root / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def _dependency_tables(root: Path) -> dict[str, Any]:
    """Return what pyproject.toml says the environment is made of, and nothing else."""
    data = _pyproject(root)
    project = data.get("project", {})
    build = data.get("build-system", {})
    assert isinstance(project, dict) and isinstance(build, dict), "pyproject.toml: bad tables"
    keys = ("requires-python", "dependencies", "optional-dependencies")
    return {"build-system.requires": build.get("requires", []), **{k: project.get(k) for k in keys}}


def input_digest(lock: Lock, root: Path) -> str:
    """Return the sha256 of a lock's inputs as they are now (requirements, not comments)."""
    if lock.source == "pyproject.toml":
        text = json.dumps(_dependency_tables(root), sort_keys=True)
    else:
        lines = (line.split("#", 1)[0].strip() for line in (root / lock.source).open())
        text = "\n".join(line for line in lines if line)
    return hashlib.sha256(text.encode()).hexdigest()


def recorded_digest(lock_file: Path) -> str | None:
    """Return the inputs' digest a lock's header records, or None (no lock, no digest)."""
    if not lock_file.is_file():
        return None
    with lock_file.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            if line.startswith(DIGEST_PREFIX):
                return line.removeprefix(DIGEST_PREFIX).split()[0]
    return None


def file_digest(path: Path) -> str:
    """Return the first 16 hex digits of a file's sha256 (empty when there is no file)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else ""


def stale(root: Path) -> list[str]:
    """Return one line per lock that does not match its inputs (empty when all are current)."""
    problems = []
    for lock in LOCKS:
        recorded = recorded_digest(root / lock.path)
        if recorded is None:
            problems.append(f"{lock.path} is missing or has no inputs digest")
        elif recorded != input_digest(lock, root):
            problems.append(f"{lock.path} is stale: {lock.source} changed since it was made")
    return problems


def _python_floor(root: Path) -> str:
    """Return the oldest Python the project supports (``requires-python = ">=3.11"``)."""
    project = _pyproject(root).get("project", {})
    spec = str(project.get("requires-python", "")) if isinstance(project, dict) else ""
    found = re.search(r">=\s*(\d+\.\d+)", spec)
    return found.group(1) if found else f"{sys.version_info.major}.{sys.version_info.minor}"


def _uv() -> str:
    """Return the uv beside this interpreter (the dev extra installs it), else on PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if found is None:
        raise SystemExit("uv is not installed: run 'make venv' first (the dev extra has it)")
    return found


def refresh(root: Path) -> None:
    """Make every lock anew with uv, then record its inputs' digest in its header."""
    for lock in LOCKS:
        arguments, stdin = lock.inputs(root)
        command = [_uv(), "pip", "compile", *arguments, "--universal", "--generate-hashes",
                   "--python-version", _python_floor(root), "--custom-compile-command",
                   COMMAND, "--quiet", "--output-file", lock.path]  # fmt: skip
        subprocess.run(command, cwd=root, input=stdin, text=True, check=True)
        stamp(lock, root)


def stamp(lock: Lock, root: Path) -> None:
    """Record the inputs' digest in a lock uv just wrote, under the command that made it."""
    path = root / lock.path
    header, _, body = path.read_text(encoding="utf-8").partition(f"\n#    {COMMAND}\n")
    digest = f"{DIGEST_PREFIX}{input_digest(lock, root)} ({lock.source}; check: make lock-check)"
    path.write_text(f"{header}\n#    {COMMAND}\n{digest}\n{body}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run ``check`` (1 and what to run when a lock is stale) or ``refresh``."""
    args = sys.argv[1:] if argv is None else argv
    root = Path.cwd()
    if args == ["refresh"]:
        refresh(root)
        return 0
    if args != ["check"]:
        print("usage: python -m workbench.locks check|refresh", file=sys.stderr)
        return 2
    problems = stale(root)
    for problem in problems:
        print(f"{problem}: run 'make lock' and commit the result", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

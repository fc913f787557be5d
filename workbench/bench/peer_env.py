"""The peer's own virtual environment, made on first use, so its pins never touch ours.

dlt brings its own dependency pins; installed next to workbench they would decide which
versions of shared libraries the benchmark measures. So the peer lives in
``.workbench/peer-venv``, built from ``benchmarks/peer-requirements.txt`` (a lock of every
package, dlt and all it needs, with hashes: ``make lock`` makes it from
``benchmarks/peer-requirements.in``, see ``workbench.locks``) when the file exists, else from
that input. It is rebuilt when the requirements change; a machine without a package registry
gets a clear reason instead, and the benchmark goes on without the peer.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from workbench.locks import file_digest
from workbench.services.common import project_root, state_dir

__all__ = ["PeerEnv", "ensure_peer_env"]

#: The lock of the peer's environment, in the project.
LOCK = Path("benchmarks") / "peer-requirements.txt"
#: What the lock is made from (dlt's pin): installed when there is no lock.
SPEC = Path("benchmarks") / "peer-requirements.in"


@dataclass(frozen=True)
class PeerEnv:
    """The peer's interpreter and the dlt version installed with it (or why there is none)."""

    python: Path | None
    dlt: str | None
    reason: str = ""


def _requirements() -> tuple[list[str], str]:
    """Return pip's arguments for the peer's packages and their digest."""
    lock = project_root() / LOCK
    chosen = lock if lock.is_file() else project_root() / SPEC
    return ["-r", str(chosen)], file_digest(chosen)


def _dlt_version(python: Path) -> str | None:
    """Return the dlt version the interpreter imports, or None."""
    probe = "import importlib.metadata as m; print(m.version('dlt'))"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return done.stdout.strip() or None if done.returncode == 0 else None


def ensure_peer_env(folder: Path | None = None, *, timeout_s: float = 900) -> PeerEnv:
    """Return the peer's environment, making or refreshing it first when needed."""
    folder = folder or state_dir() / "peer-venv"
    python, stamp = folder / "bin" / "python", folder / ".requirements"
    arguments, digest = _requirements()
    if python.is_file() and stamp.is_file() and stamp.read_text() == digest:
        version = _dlt_version(python)
        if version:
            return PeerEnv(python, version)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True,
                       capture_output=True, timeout=120)  # fmt: skip
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *arguments], check=True, capture_output=True, text=True,
                       timeout=timeout_s)  # fmt: skip
    except subprocess.CalledProcessError as exc:
        last = (str(exc.stderr or exc.stdout or "").strip().splitlines() or [str(exc)])[-1]
        return PeerEnv(None, None, f"dlt could not be installed ({last})")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return PeerEnv(None, None, f"dlt could not be installed ({exc})")
    stamp.write_text(digest)
    version = _dlt_version(python)
    if version is None:
        return PeerEnv(None, None, "dlt was installed but does not import")
    return PeerEnv(python, version)

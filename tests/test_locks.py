"""The dependency locks: current in the repository, and stale as soon as an input changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workbench.locks import (
    LOCKS,
    file_digest,
    input_digest,
    main,
    recorded_digest,
    stale,
    stamp,
)
from workbench.services.common import project_root

ROOT = project_root()
PROJECT, PEER = LOCKS


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's lock inputs and locks, to change."""
    for name in ("pyproject.toml", *(lock.path for lock in LOCKS), PEER.source):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must be there) by ``new`` in a file."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


class TestRepository:
    """The committed locks."""

    def test_the_committed_locks_match_their_inputs(self) -> None:
        """Both locks record the digest of their inputs as they are now (else: make lock)."""
        assert stale(ROOT) == []

    def test_every_pin_carries_hashes(self) -> None:
        """Each pinned package has its hashes, so pip installs it in hash-checking mode."""
        for lock in LOCKS:
            text = (ROOT / lock.path).read_text(encoding="utf-8")
            pins = [line for line in text.splitlines() if "==" in line and line[0].isalnum()]
            assert pins and all(line.endswith("\\") for line in pins), lock.path
            assert text.count("--hash=sha256:") >= len(pins)

    def test_the_project_lock_holds_the_build_backend_and_the_dev_tools(self) -> None:
        """The build backend (for --no-build-isolation), uv, mypy and pytest are pinned."""
        text = (ROOT / PROJECT.path).read_text(encoding="utf-8")
        for name in ("setuptools", "uv", "mypy", "pytest", "aiohttp", "dlt"):
            assert (f"\n{name}==" in text) is (name != "dlt"), name


class TestStaleness:
    """What makes a lock stale, and what does not."""

    def test_a_changed_bound_makes_the_project_lock_stale(self, project: Path) -> None:
        """Raising a dependency's lower bound in pyproject.toml is reported, naming the lock."""
        edit(project / "pyproject.toml", '"redis>=5.0"', '"redis>=5.1"')
        assert stale(project) == [
            "requirements-lock.txt is stale: pyproject.toml changed since it was made"
        ]

    def test_a_new_dev_dependency_and_the_build_backend_count(self, project: Path) -> None:
        """The dev extra and [build-system] requires are inputs too."""
        for old, new in (
            ('"pytest>=8.0",', '"pytest>=8.0", "rich",'),
            ("setuptools>=77", "setuptools>=78"),
        ):
            edit(project / "pyproject.toml", old, new)
            assert input_digest(PROJECT, project) != recorded_digest(project / PROJECT.path)

    def test_comments_and_tool_settings_do_not(self, project: Path) -> None:
        """Editing a comment or a [tool] table leaves the lock current."""
        edit(project / "pyproject.toml", "[tool.ruff]", "# a note\n[tool.ruff]")
        edit(project / "pyproject.toml", "line-length = 100", "line-length = 99")
        edit(project / PEER.source, "dlt[postgres]", "# pinned for the benchmark\ndlt[postgres]")
        assert stale(project) == []

    def test_the_peer_lock_follows_its_input(self, project: Path) -> None:
        """Changing dlt's pin makes the peer's lock stale."""
        edit(project / PEER.source, "dlt[postgres]==1.31.0", "dlt[postgres]==1.30.0")
        assert stale(project) == [
            "benchmarks/peer-requirements.txt is stale: "
            "benchmarks/peer-requirements.in changed since it was made"
        ]

    def test_a_lock_without_a_digest_or_missing_is_reported(self, project: Path) -> None:
        """A hand-written lock (no digest line) and a deleted lock both need make lock."""
        (project / PROJECT.path).write_text("aiohttp==3.9.0\n")
        (project / PEER.path).unlink()
        assert recorded_digest(project / PEER.path) is None
        assert stale(project) == [
            f"{lock.path} is missing or has no inputs digest" for lock in LOCKS
        ]


class TestCommand:
    """``python -m workbench.locks check`` as make lock-check runs it."""

    def test_check_passes_quietly_on_current_locks(
        self, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Current locks: status 0, nothing printed."""
        monkeypatch.chdir(project)
        assert main(["check"]) == 0
        assert capsys.readouterr().err == ""

    def test_check_says_what_to_run(
        self, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A stale lock: status 1 and a line that says to run make lock."""
        edit(project / "pyproject.toml", '"redis>=5.0"', '"redis>=6.0"')
        monkeypatch.chdir(project)
        assert main(["check"]) == 1
        assert "requirements-lock.txt is stale" in (err := capsys.readouterr().err)
        assert "run 'make lock' and commit the result" in err

    def test_a_bad_verb_is_status_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Anything but check or refresh: usage on stderr, status 2."""
        assert main(["lock"]) == 2
        assert "usage: python -m workbench.locks check|refresh" in capsys.readouterr().err


class TestStamp:
    """The digest written into what uv made."""

    def test_the_digest_goes_under_the_command_line(self, project: Path) -> None:
        """The two header lines uv wrote stay first, the digest follows, the pins untouched."""
        uv_output = (
            "# This file was autogenerated by uv via the following command:\n#    make lock\n"
        )
        pins = "aiohttp==3.14.5 \\\n    --hash=sha256:00\n"
        (project / PROJECT.path).write_text(uv_output + pins)
        stamp(PROJECT, project)
        lines = (project / PROJECT.path).read_text().splitlines()
        assert lines[:2] == uv_output.splitlines()
        assert lines[2].startswith(f"# inputs-sha256: {input_digest(PROJECT, project)} ")
        assert "\n".join(lines[3:]) + "\n" == pins
        assert stale(project) == []

    def test_file_digest_is_16_hex_digits_or_empty(self, tmp_path: Path) -> None:
        """A file's digest is short and stable; a missing file has none."""
        (tmp_path / "a").write_text("x")
        assert (
            file_digest(tmp_path / "a") == "2d711642b726b044" and file_digest(tmp_path / "b") == ""
        )

"""``workbench lab``: JupyterLab answers, lists notebooks/, and its kernels find our servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from workbench.commands.lab import START_PAGE
from workbench.services import Services
from workbench.services.common import free_port, project_root


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Leave redirects to the test: a 3xx comes back as an HTTPError."""

    def redirect_request(self, *args: Any) -> None:
        """Follow no redirect."""
        return None


@pytest.fixture
def lab(services: Services) -> Iterator[tuple[str, str]]:
    """A JupyterLab started by ``workbench lab`` on a free port; yields (base url, token)."""
    port, token = free_port(), "test-token"
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "lab", "--port", str(port), "--token", token],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("JupyterLab did not answer within 60 s")
        yield base, token
    finally:
        process.terminate()
        process.wait(timeout=30)


class TestLab:
    """The lab server and its kernels."""

    def test_lab_answers_and_lists_the_notebooks_folder(self, lab: tuple[str, str]) -> None:
        """The server answers with the token and its root is the project's notebooks/ folder."""
        base, token = lab
        with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=10) as answer:
            listing = json.load(answer)
        names = sorted(item["name"] for item in listing["content"])
        expected = sorted(
            p.name for p in (project_root() / "notebooks").iterdir() if not p.name.startswith(".")
        )
        assert listing["type"] == "directory"
        assert names == expected

    def test_opens_on_the_start_page(self, lab: tuple[str, str]) -> None:
        """The server's root redirects to the start page, which it serves."""
        base, token = lab
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(f"{base}/?token={token}", timeout=10)
        location = redirect.value.headers["Location"]
        assert redirect.value.code == 302 and f"/lab/tree/{START_PAGE}" in location
        with urllib.request.urlopen(f"{base}/api/contents/{START_PAGE}?token={token}") as page:
            assert json.load(page)["type"] == "notebook"

    def test_a_kernel_reaches_the_same_servers(self, services: Services) -> None:
        """A kernel started in notebooks/ finds the running servers without starting new ones."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env.update(services.as_env() if services.postgres_origin == "environment" else {})
        manager, client = start_new_kernel(
            kernel_name="python3", cwd=str(project_root() / "notebooks"), env=env
        )
        try:
            code = (
                "from workbench.services import ensure_services\n"
                "s = ensure_services(start=False)\n"
                "print(s.postgres_dsn + ' ' + s.redis_url)"
            )
            outputs: list[str] = []
            client.execute_interactive(
                code,
                timeout=60,
                output_hook=lambda msg: outputs.append(msg["content"].get("text", "")),
            )
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
        assert "".join(outputs).split() == [services.postgres_dsn, services.redis_url]

"""``workbench lab``: JupyterLab on ``notebooks/`` with the services running and reachable.

It opens on ``notebooks/Start-Here.ipynb``, the page linking the teaching notebooks and the
practice exercises. It is always behind a token of at least 8 characters: ``--token``, else
``$WORKBENCH_LAB_TOKEN``, else a random one, printed with the login URL. ``--ip 0.0.0.0``
serves other hosts (a container's published port); the default serves this machine only.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys

from workbench.errors import ConfigError
from workbench.services import ensure_services
from workbench.services.common import project_root

#: The notebook JupyterLab opens on, relative to ``notebooks/``.
START_PAGE = "Start-Here.ipynb"
#: Where the login token comes from when ``--token`` is not given.
TOKEN_ENV = "WORKBENCH_LAB_TOKEN"


def lab_command(port: int, token: str, ip: str = "127.0.0.1") -> list[str]:
    """Return the JupyterLab command line for ``notebooks/`` on ``ip``:``port``."""
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        f"--ip={ip}",
        f"--port={port}",
        f"--ServerApp.root_dir={project_root() / 'notebooks'}",
        f"--IdentityProvider.token={token}",
        f"--LabApp.default_url=/lab/tree/{START_PAGE}",
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")
    return command


def _lab(args: argparse.Namespace) -> int:
    """Start the services, export where they are, then replace this process with JupyterLab."""
    given, source = args.token, "--token"
    if given is None:
        given, source = os.environ.get(TOKEN_ENV) or None, TOKEN_ENV  # empty: not set
    if given is not None and len(given) < 8:
        raise ConfigError(f"{source}: expected at least 8 characters (JupyterLab is never open)")
    token = given or secrets.token_hex(16)
    services = ensure_services()
    os.environ.update(services.as_env())  # kernels inherit it and reach the same servers
    print(
        f"JupyterLab: http://127.0.0.1:{args.port}/lab/tree/{START_PAGE}?token={token}", flush=True
    )
    command = lab_command(args.port, token, args.ip)
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lab`` to the CLI."""
    parser = subparsers.add_parser(
        "lab", help="JupyterLab on notebooks/ with services running, open on the start page"
    )
    parser.add_argument("--port", type=int, default=8888, help="port to listen on (8888)")
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--token", default=None, help=f"login token (default: ${TOKEN_ENV}, else a random one)"
    )
    parser.set_defaults(handler=_lab)

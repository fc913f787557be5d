"""``workbench services up|down|status|env``: manage the embedded Postgres and Valkey."""

from __future__ import annotations

import argparse

from workbench.services import ensure_services, service_status, shell_exports, stop_services


def _redact(url: str) -> str:
    """Hide a password in a DSN or URL (status output may end up in logs)."""
    from workbench.redaction import redact

    return redact(url)


def _up(args: argparse.Namespace) -> int:
    """Start what is not running and say where everything is."""
    services = ensure_services()
    print(f"postgres: {_redact(services.postgres_dsn)} ({services.postgres_origin})")
    print(f"redis:    {_redact(services.redis_url)} ({services.redis_origin})")
    return 0


def _down(args: argparse.Namespace) -> int:
    """Stop the embedded servers."""
    stopped = stop_services()
    print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


def _status(args: argparse.Namespace) -> int:
    """Print one line per server; exit 1 when one is not running."""
    statuses = service_status()
    for status in statuses:
        where = _redact(status.url) if status.url else "-"
        state = "running" if status.running else "stopped"
        pid = f" pid {status.pid}" if status.pid else ""
        print(f"{status.name:<8} {state:<8} {status.origin:<11} {where}{pid}")
    return 0 if all(status.running for status in statuses) else 1


def _env(args: argparse.Namespace) -> int:
    """Print ``export`` lines for a shell: ``eval "$(workbench services env)"``."""
    print(shell_exports(ensure_services()))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``services`` and its actions to the CLI."""
    parser = subparsers.add_parser("services", help="start, stop or locate Postgres and Redis")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, handler, text in (
        ("up", _up, "start the embedded servers unless configured or running (idempotent)"),
        ("down", _down, "stop the embedded servers"),
        ("status", _status, "say what runs where (exit 1 if something is stopped)"),
        ("env", _env, "print export lines for WORKBENCH_POSTGRES_DSN and WORKBENCH_REDIS_URL"),
    ):
        actions.add_parser(name, help=text).set_defaults(handler=handler)

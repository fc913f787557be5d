"""``workbench source serve``: run the local JSONPlaceholder-style API, faults included."""

from __future__ import annotations

import argparse

from workbench.errors import ConfigError
from workbench.local_api.data import Dataset, check_scale
from workbench.local_api.faults import FaultConfig, check_fault_values
from workbench.local_api.hostile import HOSTILE_KINDS
from workbench.local_api.server import run_server

#: Each fault setting's flag and help; the FaultConfig field of the same name is its default.
FAULT_FLAGS = {
    "latency_ms": ("--latency-ms", "milliseconds added to every answer"),
    "jitter_ms": ("--jitter-ms", "up to this many more milliseconds, drawn uniformly"),
    "error_rate": ("--error-rate", "fraction of answers that are a 500 or 503"),
    "rate_limit_rate": ("--rate-limit-rate", "fraction of answers that are a 429"),
    "retry_after_s": ("--retry-after-s", "seconds a 429's Retry-After asks for"),
    "drop_rate": ("--drop-rate", "fraction of connections closed without an answer"),
    "malformed_rate": ("--malformed-rate", "fraction of 200s whose JSON is cut off"),
    "slow_rate": ("--slow-rate", "fraction of answers delayed by --slow-ms"),
    "slow_ms": ("--slow-ms", "extra milliseconds of a slow answer"),
    "huge_mb": ("--huge-mb", "megabytes of a 'huge' hostile answer"),
}
#: The flag that sets each FaultConfig field, for error messages.
FLAG_OF = {
    **{field: flag for field, (flag, _) in FAULT_FLAGS.items()},
    "seed": "--fault-seed",
    "always_fail": "--always-fail",
    "hostile": "--hostile",
    "hostile_page": "--hostile-page",
    "hostile_target": "--hostile-target",
}


def _serve(args: argparse.Namespace) -> int:
    """Check the flags, then serve until interrupted."""
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port}: expected 0 to 65535 (0 picks a free port)")
    check_scale(args.scale, label="--scale")
    values = {field: getattr(args, field) for field in FAULT_FLAGS}
    values["seed"] = args.seed if args.fault_seed is None else args.fault_seed
    values["always_fail"] = tuple(args.always_fail)
    values["hostile"] = tuple(kind for text in args.hostile for kind in text.split(",") if kind)
    values["hostile_page"] = args.hostile_page
    values["hostile_target"] = args.hostile_target
    check_fault_values(values, label=FLAG_OF.__getitem__)
    dataset = Dataset(seed=args.seed, scale=args.scale)
    run_server(
        args.host,
        args.port,
        dataset,
        FaultConfig(**values),
        allow_remote_faults=args.allow_remote_faults,
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``source`` and its ``serve`` action to the CLI."""
    parser = subparsers.add_parser("source", help="the local JSONPlaceholder-style source API")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = actions.add_parser("serve", help="serve the API (with injected faults) until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    serve.add_argument("--seed", type=int, default=0, help="seed the records are drawn from")
    serve.add_argument("--scale", type=float, default=1.0, help="multiply JSONPlaceholder's counts")
    defaults = FaultConfig()
    for field, (flag, text) in FAULT_FLAGS.items():
        default = getattr(defaults, field)
        unit = "FRACTION" if field.endswith("_rate") else field.rsplit("_", 1)[1].upper()
        help_text = f"{text} (default {default:g})"
        serve.add_argument(flag, type=float, default=default, metavar=unit, help=help_text)
    serve.add_argument(
        "--always-fail",
        action="append",
        default=[],
        metavar="TEXT",
        help="answer 500 to every request whose path and query contain TEXT (repeatable)",
    )
    serve.add_argument(
        "--fault-seed", type=int, default=None, help="seed fault draws come from (default --seed)"
    )
    serve.add_argument(
        "--hostile",
        action="append",
        default=[],
        metavar="KIND[,KIND]",
        help=f"hostile answers, one page each from --hostile-page on ({', '.join(HOSTILE_KINDS)})",
    )
    serve.add_argument("--hostile-page", type=int, default=2, help="first hostile page (2)")
    serve.add_argument("--hostile-target", default="", help="where a 'redirect' answer points")
    serve.add_argument(
        "--allow-remote-faults",
        action="store_true",
        help="accept fault parameters and resets from other hosts (default: this host only)",
    )
    serve.set_defaults(handler=_serve)

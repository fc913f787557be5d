"""``workbench source``: the local API, and records on a Redis stream as a source.

    workbench source serve --port 8000 --scale 10 --latency-ms 20     # the local API
    workbench source produce --stream wb:src --base-url URL --resource posts --rate 200
    workbench source produce --stream wb:src --file posts.jsonl --resource posts
    workbench source consume --stream wb:src --consumer c1 [--until-empty]

``produce`` appends records (an API's or a file's) to a stream at a rate; ``consume`` reads
them through a consumer group into Postgres, acknowledging after each commit: restarted
under the same ``--consumer`` it resumes where it acknowledged. ``consume`` ends with the
run's report as its last stdout line (exit 1 when pages failed), on SIGTERM or Ctrl-C after
the batch in hand, or with ``--until-empty`` once the stream is drained.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
from typing import Any

from workbench.commands.ingest import finish
from workbench.config import Settings
from workbench.errors import ConfigError
from workbench.ingestion.factory import connections_for
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


def _produce(args: argparse.Namespace) -> int:
    """Append an API's or a file's records to a stream; say how many."""
    import redis

    from workbench.sources.files import FileSource
    from workbench.sources.http_api import HttpApiSource
    from workbench.sources.producer import produce, source_records

    settings = Settings.from_env(base_url=args.base_url, resources=args.resource)
    if args.file is not None:
        if len(settings.resources) != 1 or args.resource is None:
            raise ConfigError("--file: name exactly one --resource, the file's")
        source: Any = FileSource({settings.resources[0]: args.file})
    else:
        source = HttpApiSource(settings.base_url, page_size=settings.page_size)
    if args.rate is not None and args.rate <= 0:
        raise ConfigError(f"--rate: expected records per second > 0, got {args.rate}")
    queue = connections_for(settings).queue
    assert queue is not None and queue.url, "connections_for always names the queue's Redis"
    client = redis.Redis.from_url(queue.url)
    try:
        records = source_records(source, settings.resources, max_pages=args.max_pages)
        count = produce(
            client, args.stream, records, rate=args.rate, maxlen=args.maxlen, limit=args.limit
        )
    finally:
        client.close()
    print(json.dumps({"stream": args.stream, "produced": count}))
    return 0


def _consume(args: argparse.Namespace) -> int:
    """Consume a stream into Postgres until stopped or drained; print the run's report."""
    from workbench.logging_setup import configure_logging
    from workbench.sources.stream import StreamConsumer, StreamSource

    settings = Settings.from_env(resources=args.resource, log_format=args.log_format)
    configure_logging(settings.log_format, settings.log_level, stream=sys.stderr)
    connections = connections_for(settings)
    source = StreamSource(
        connections.queue.url,  # type: ignore[arg-type,union-attr]
        args.stream,
        group=args.group,
        consumer=args.consumer,
        resource=settings.resources[0],
        count=args.count,
        idle_s=settings.queue_idle_s,
        max_deliveries=settings.queue_max_deliveries,
        name=args.source_name,
    )
    consumer = StreamConsumer(source, connections, resources=settings.resources)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: consumer.stop.set())
    try:
        report = consumer.run(until_empty=args.until_empty)
    finally:
        consumer.close()
    return finish(report)


def _register_stream_actions(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``produce`` and ``consume``: records on a Redis stream, as a source."""
    produce = actions.add_parser("produce", help="append an API's or a file's records to a stream")
    produce.add_argument("--stream", required=True, help="the stream's key")
    produce.add_argument("--base-url", help="the API to read (WORKBENCH_BASE_URL)")
    produce.add_argument("--file", help="a CSV or JSON Lines file to read instead of an API")
    produce.add_argument("--resource", help="comma-separated resources (with --file: one)")
    produce.add_argument("--max-pages", type=int, help="stop after this many pages per resource")
    produce.add_argument("--rate", type=float, help="records per second (default: at once)")
    produce.add_argument("--maxlen", type=int, help="cap the stream near this many entries")
    produce.add_argument("--limit", type=int, help="stop after this many records")
    produce.set_defaults(handler=_produce)
    consume = actions.add_parser(
        "consume", help="consume a stream into Postgres (ack = checkpoint)"
    )
    consume.add_argument("--stream", required=True, help="the stream's key")
    consume.add_argument("--group", default="workbench", help="consumer group (workbench)")
    consume.add_argument(
        "--consumer", default=socket.gethostname(), help="consumer name; keep it to resume (host)"
    )
    consume.add_argument("--resource", help="resources; entries naming none are the first")
    consume.add_argument("--count", type=int, default=100, help="entries per batch (100)")
    consume.add_argument("--until-empty", action="store_true", help="stop once drained")
    consume.add_argument("--source-name", default="stream", help="name stored with the records")
    consume.add_argument("--log-format", choices=("json", "text"), help="log lines on stderr")
    consume.set_defaults(handler=_consume)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``source`` and its ``serve``, ``produce`` and ``consume`` actions to the CLI."""
    parser = subparsers.add_parser("source", help="the local API; records on a Redis stream")
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
    _register_stream_actions(actions)

"""Workbench logging: one handler, JSON or text lines, context bound through contextvars.

``configure_logging`` installs (or replaces) one handler on the ``workbench`` logger.
``bind_context(run_id=..., resource=...)`` adds fields to every record logged inside the
``with`` block, in this thread or asyncio task only; ``@logged`` times a function call.
Every string that reaches a line goes through ``redact``, so DSN passwords never do.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import IO, Any, TypeVar, overload

from workbench.errors import ConfigError
from workbench.redaction import redact

__all__ = [
    "LOGGER_NAME",
    "JsonFormatter",
    "TextFormatter",
    "bind_context",
    "configure_logging",
    "current_logging",
    "get_context",
    "logged",
    "set_context",
    "unconfigure_logging",
]

LOGGER_NAME = "workbench"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
BASE_FIELDS = ("ts", "level", "logger", "message")

F = TypeVar("F", bound=Callable[..., Any])

_CONTEXT: ContextVar[Mapping[str, Any]] = ContextVar(
    "workbench_log_context", default=MappingProxyType({})
)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


@contextmanager
def bind_context(**fields: Any) -> Iterator[Mapping[str, Any]]:
    """Add ``fields`` to every record logged in this block; the outer context returns after.

    The context lives in a ``ContextVar``, so it follows ``await`` within one asyncio task
    and is private to each task and thread.
    """
    token = _CONTEXT.set(MappingProxyType({**_CONTEXT.get(), **fields}))
    try:
        yield _CONTEXT.get()
    finally:
        _CONTEXT.reset(token)


def set_context(fields: Mapping[str, Any]) -> None:
    """Bind ``fields`` for the rest of the current context (a worker process's whole life)."""
    _CONTEXT.set(MappingProxyType({**_CONTEXT.get(), **fields}))


def get_context() -> dict[str, Any]:
    """Return a copy of the fields currently bound with ``bind_context``."""
    return dict(_CONTEXT.get())


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return a record's fields: ts, level, logger, message, then context and ``extra`` ones."""
    fields: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage(),
    }
    extras = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS}
    # The four fields above win a name clash: a stray ``extra={"level": ...}`` must not lie.
    for key, value in {**_CONTEXT.get(), **extras}.items():
        fields.setdefault(key, value)
    return {key: _redacted(value) for key, value in fields.items()}


def _redacted(value: Any) -> Any:
    """Mask passwords in ``value`` if it is a string; JSON-safe values pass through."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """Format each record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record's fields as JSON, with any traceback in ``exc_info``."""
        fields = record_fields(record)
        if record.exc_info:
            fields["exc_info"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            fields["stack_info"] = redact(self.formatStack(record.stack_info))
        return json.dumps(fields, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Format each record as ``ts LEVEL logger: message key=value ...`` for people."""

    def format(self, record: logging.LogRecord) -> str:
        """Return one readable line, followed by the traceback when there is one."""
        fields = record_fields(record)
        head = "{ts} {level:<7} {logger}: {message}".format(**fields)
        suffix = [f"{k}={_text_value(v)}" for k, v in fields.items() if k not in BASE_FIELDS]
        line = " ".join([head, *suffix])
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        if record.stack_info:
            line += "\n" + redact(self.formatStack(record.stack_info))
        return line


def _text_value(value: Any) -> str:
    """Show ``value`` bare when it is one plain word, else JSON-quoted to keep lines parseable."""
    text = str(value)
    plain = text and not any(c.isspace() or c in "\"'=" for c in text)
    return text if plain else json.dumps(text, ensure_ascii=False)


class _WorkbenchHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure_logging`` owns; its class is how a re-call finds it."""

    def __init__(self, stream: IO[str], format: str, level: str) -> None:
        super().__init__(stream)
        self.settings = {"format": format, "level": level}


def current_logging() -> dict[str, str] | None:
    """Return the ``format`` and ``level`` ``configure_logging`` set, or None if it was not.

    A worker process calls ``configure_logging(**current_logging())`` with its parent's
    answer, so its lines look like the parent's.
    """
    logger = logging.getLogger(LOGGER_NAME)
    handlers = [h for h in logger.handlers if isinstance(h, _WorkbenchHandler)]
    return dict(handlers[0].settings) if handlers else None


def configure_logging(
    format: str = "text", level: str | int = "INFO", stream: IO[str] | None = None
) -> logging.Handler:
    """Send workbench's logs to ``stream`` (stderr by default) as ``json`` or ``text`` lines.

    Idempotent: calling again replaces the handler installed before, never adds a second.
    The ``workbench`` logger stops propagating to the root logger, so a root handler set up
    by Jupyter or ``basicConfig`` does not print every line twice.
    """
    formatters = {"json": JsonFormatter, "text": TextFormatter}
    if format not in formatters:
        raise ConfigError(f"log_format: expected one of json, text, got {format!r}")
    level_name = logging.getLevelName(level) if isinstance(level, int) else str(level).upper()
    if level_name not in LEVELS:
        raise ConfigError(f"log_level: expected one of {', '.join(LEVELS)}, got {level!r}")

    unconfigure_logging()
    handler = _WorkbenchHandler(stream if stream is not None else sys.stderr, format, level_name)
    handler.setFormatter(formatters[format]())
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    logger.setLevel(level_name)
    logger.propagate = False
    return handler


def unconfigure_logging() -> None:
    """Remove the handler ``configure_logging`` installed and let records propagate again."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if isinstance(h, _WorkbenchHandler)]:
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


@overload
def logged(func: F, /) -> F: ...
@overload
def logged(
    *, level: int = logging.DEBUG, logger: logging.Logger | str | None = None
) -> Callable[[F], F]: ...


def logged(
    func: F | None = None,
    /,
    *,
    level: int = logging.DEBUG,
    logger: logging.Logger | str | None = None,
) -> F | Callable[[F], F]:
    """Log a call's start and end with its duration at ``level``, and failures at ERROR.

    Works on plain and ``async`` functions, bare (``@logged``) or configured
    (``@logged(level=logging.INFO, logger="workbench.x")``). The logger defaults to the
    function's module logger. Exceptions are logged with the elapsed time and re-raised.
    """

    def decorate(fn: F) -> F:
        log = (
            logger
            if isinstance(logger, logging.Logger)
            else logging.getLogger(logger or fn.__module__)
        )
        name = fn.__qualname__

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with _logged_call(log, level, name):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _logged_call(log, level, name):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


@contextmanager
def _logged_call(log: logging.Logger, level: int, name: str) -> Iterator[None]:
    """Log ``name`` starting, then finishing or failing, with the elapsed seconds."""
    log.log(level, "%s started", name, extra={"function": name})
    start = time.perf_counter()
    try:
        yield
    except Exception:
        _log_elapsed(log, logging.ERROR, "%s failed after %.3fs", name, start, exc_info=True)
        raise
    _log_elapsed(log, level, "%s finished in %.3fs", name, start)


def _log_elapsed(
    log: logging.Logger, level: int, msg: str, name: str, start: float, exc_info: bool = False
) -> None:
    """Log ``msg`` for ``name`` with the seconds since ``start``, also as ``elapsed_s``."""
    elapsed = time.perf_counter() - start
    extra = {"function": name, "elapsed_s": round(elapsed, 6)}
    log.log(level, msg, name, elapsed, exc_info=exc_info, extra=extra)

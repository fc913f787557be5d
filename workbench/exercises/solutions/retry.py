"""Model answer to exercise 01: the package's own ``workbench.retry.retry``.

Its pure decisions are in ``workbench.retry.policies`` (``Backoff``, ``RetryPolicy.decide``)
and its two loops, plain and async, in ``workbench.retry._decorate``.
"""

from __future__ import annotations

from workbench.retry import retry

__all__ = ["retry"]

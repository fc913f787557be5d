"""The same download three ways, after Fluent Python's getflags (notebook 09).

One runner and one report (``common``); each variant defines only ``download_many``:

* ``sequential``: one ``requests.Session``, one page after another;
* ``threadpool``: a ``ThreadPoolExecutor``, results taken with ``as_completed``;
* ``asyncio_semaphore``: aiohttp tasks under an ``asyncio.Semaphore``, ``gather``-ed.

    from workbench.getpages import main, page_urls, sequential
    report = main(sequential.download_many, page_urls(base_url, pages=40))

The variants diff cleanly because only the strategy changes; the ingestors follow the same
idea at full size (``workbench.ingestion``: one runner, each mode only its scheduling).
"""

from workbench.getpages.common import Report, amain, main, page_urls

__all__ = ["Report", "amain", "main", "page_urls"]

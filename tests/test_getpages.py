"""getpages: three download strategies, one runner and one report, against the local API."""

from __future__ import annotations

import asyncio

import pytest

from workbench.getpages import amain, asyncio_semaphore, main, page_urls, sequential, threadpool
from workbench.local_api import ServerHandle


@pytest.fixture
def urls(source: ServerHandle) -> list[str]:
    """Ten pages of posts on the module's local API."""
    return page_urls(source.url, pages=10, page_size=5)


class TestVariants:
    """Every variant downloads the same bytes; the report names the variant."""

    def test_sync_variants_agree(self, urls: list[str]) -> None:
        """Sequential and thread-pool downloads report the same pages and bytes."""
        reports = [main(variant.download_many, urls) for variant in (sequential, threadpool)]
        assert [r.strategy for r in reports] == ["sequential", "threadpool"]
        assert reports[0].pages == reports[1].pages == 10
        assert reports[0].bytes == reports[1].bytes > 0

    def test_the_asyncio_variant_runs_its_own_loop_in_a_script(self, urls: list[str]) -> None:
        """``download_many`` calls ``asyncio.run``: fine where no loop runs yet."""
        assert (
            main(asyncio_semaphore.download_many, urls).bytes
            == main(sequential.download_many, urls).bytes
        )

    def test_inside_a_running_loop_asyncio_run_refuses(self, urls: list[str]) -> None:
        """Under a running loop (as in Jupyter) ``asyncio.run`` raises; awaiting works."""

        async def inside() -> int:
            with pytest.raises(RuntimeError, match="running event loop"):
                main(asyncio_semaphore.download_many, urls)
            report = await amain(asyncio_semaphore.supervisor, urls)
            assert report.strategy == "asyncio_semaphore"
            return report.bytes

        assert asyncio.run(inside()) == main(sequential.download_many, urls).bytes

    def test_page_urls_are_the_first_pages(self) -> None:
        """URLs in page order, json-server paging."""
        assert page_urls("http://h/", pages=2, page_size=3) == [
            "http://h/posts?_page=1&_limit=3",
            "http://h/posts?_page=2&_limit=3",
        ]

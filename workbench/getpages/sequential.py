"""Sequential: one ``requests.Session``, one page after another; the baseline."""

from __future__ import annotations

import requests


def get_page(session: requests.Session, url: str) -> bytes:
    """Download one page's body (an error status raises)."""
    response = session.get(url, timeout=10)
    response.raise_for_status()
    return response.content


def download_many(urls: list[str]) -> int:
    """Download every page in turn; return the bytes received."""
    with requests.Session() as session:
        return sum(len(get_page(session, url)) for url in urls)

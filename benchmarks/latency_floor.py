"""The latency target's floor: raw aiohttp lanes, nothing processed or written.

The latency case (async, 50 ms, 500 pages of 10, 50 in flight) is judged against an ideal of
``latency x pages / in flight``. This probe measures how close a bare client gets, so the
pipeline's own share can be told from the client's and the server's:

* against the project's source server (``workbench source serve`` in its own process), with
  1, 10, 25 and 50 lanes (each lane fetches ``pages / 50 * lanes`` pages one after another);
* against a bare aiohttp server in its own process that sleeps the same latency and sends one
  fixed page, with 50 lanes.

Run: ``.venv/bin/python benchmarks/latency_floor.py`` on a quiet machine (``--reps``, default
3, warm runs after one warm-up). It prints each setting's wall time over its ideal.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import urllib.request

import aiohttp

from workbench.local_api import FaultConfig, serve_in_process

LATENCY_S = 0.05
PAGES = 500
LANES = 50
PAGE_SIZE = 10

BARE_SERVER = """
import asyncio, sys
from aiohttp import web
body = sys.stdin.buffer.read()
async def page(request):
    await asyncio.sleep(float(sys.argv[1]))
    return web.Response(body=body, content_type="application/json")
async def main():
    app = web.Application()
    app.add_routes([web.get("/{tail:.*}", page)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


async def fetch_all(url: str, lanes: int, pages: int) -> float:
    """Fetch ``pages`` pages with ``lanes`` tasks on one session; return the wall time."""
    todo = list(range(pages, 0, -1))
    connector = aiohttp.TCPConnector(limit=lanes)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def lane() -> None:
            while todo:
                page = todo.pop()
                async with session.get(f"{url}/posts?_page={page}&_limit={PAGE_SIZE}") as answer:
                    await answer.read()

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(lanes)))
        return time.perf_counter() - started


def ratios(url: str, lanes: int, reps: int) -> list[float]:
    """Return wall time over the ideal for ``reps`` warm runs (after one warm-up)."""
    pages = PAGES * lanes // LANES
    ideal = LATENCY_S * pages / lanes
    asyncio.run(fetch_all(url, lanes, pages))
    return [asyncio.run(fetch_all(url, lanes, pages)) / ideal for _ in range(reps)]


def show(label: str, values: list[float]) -> None:
    """Print one setting's ratios."""
    print(f"{label:<40} " + " ".join(f"{value:.3f}x" for value in values), flush=True)


def main() -> None:
    """Measure the floor against the project's server, then against a bare one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    reps = parser.parse_args().reps
    faults = FaultConfig(latency_ms=LATENCY_S * 1000)
    with serve_in_process(seed=0, scale=50, faults=faults) as api:
        for lanes in (1, 10, 25, LANES):
            show(f"workbench source server, {lanes} lanes", ratios(api.url, lanes, reps))
        with urllib.request.urlopen(f"{api.url}/posts?_page=3&_limit={PAGE_SIZE}") as answer:
            body = answer.read()
    command = [sys.executable, "-c", BARE_SERVER, str(LATENCY_S)]
    bare = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=False)
    try:
        assert bare.stdin is not None and bare.stdout is not None
        bare.stdin.write(body)
        bare.stdin.close()
        url = bare.stdout.readline().decode().strip()  # printed once it listens, on a free port
        show(f"bare aiohttp server, {LANES} lanes", ratios(url, LANES, reps))
    finally:
        bare.terminate()
        bare.wait()


if __name__ == "__main__":
    main()

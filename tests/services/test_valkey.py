"""The throwaway Valkey used to show outages: start, stop, restart on the same port, kill."""

from __future__ import annotations

import redis

from workbench.services.valkey import ThrowawayValkey, ping


class TestThrowawayValkey:
    """A private server a test or notebook can take down."""

    def test_start_stop_restart_and_kill(self) -> None:
        """It answers once started, stops, comes back empty on the same port, and dies on kill."""
        with ThrowawayValkey() as server:
            client = redis.Redis.from_url(server.url)
            client.set("k", "v")
            server.stop()
            assert not ping(server.port)
            server.start()
            assert client.get("k") is None
            server.kill()
            assert server.process is not None and server.process.returncode is not None
            assert not ping(server.port)
            client.close()

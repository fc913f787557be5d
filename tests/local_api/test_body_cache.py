from __future__ import annotations

import pytest

from workbench.local_api.body_cache import BodyCache


class Builder:
    """Builds bodies on demand and counts how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, body: bytes) -> bytes:
        """Return ``body``, counting the call."""
        self.calls += 1
        return body


class TestBodyCache:
    """Keeping built answers up to a byte budget."""

    def test_a_kept_body_is_built_once(self) -> None:
        """The second request for a key gets the kept bytes without building them again."""
        cache, build = BodyCache(100), Builder()
        first = cache.get_or_build("k", lambda: build(b"[1]"))
        second = cache.get_or_build("k", lambda: build(b"[2]"))
        assert (first, second, build.calls) == (b"[1]", b"[1]", 1)
        assert (cache.hits, cache.misses, len(cache), cache.held_bytes) == (1, 1, 1, 3)

    def test_bodies_past_the_budget_are_built_not_kept(self) -> None:
        """Once the budget is used, new bodies are answered but built again every time."""
        cache, build = BodyCache(5), Builder()
        cache.get_or_build("a", lambda: build(b"1234"))
        for _ in range(2):
            assert cache.get_or_build("b", lambda: build(b"5678")) == b"5678"
        assert build.calls == 3
        assert cache.get_or_build("a", lambda: build(b"x")) == b"1234"
        assert (len(cache), cache.held_bytes) == (1, 4)

    def test_clear_forgets_everything(self) -> None:
        """After clear the budget is free and bodies are built again."""
        cache, build = BodyCache(10), Builder()
        cache.get_or_build("a", lambda: build(b"1234"))
        cache.clear()
        assert (len(cache), cache.held_bytes) == (0, 0)
        cache.get_or_build("a", lambda: build(b"1234"))
        assert build.calls == 2

    def test_negative_budget_is_refused(self) -> None:
        """A budget below zero is a ValueError."""
        with pytest.raises(ValueError, match="budget"):
            BodyCache(-1)

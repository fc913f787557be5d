from __future__ import annotations

from workbench.ingestion.workers import RetryOptions, RetryWrappers


def answer() -> str:
    """Answer at once."""
    return "ok"


class TestRetryWrappers:
    """Retry wrappers kept per function while the options stay the same."""

    def test_one_wrapper_per_function_and_options(self) -> None:
        """The same options and function give the same wrapper; new options a new one."""
        wrappers, options = RetryWrappers(), RetryOptions(attempts=2)
        wrapped = wrappers.wrap(options, answer)
        assert wrapped() == "ok"
        assert wrappers.wrap(options, answer) is wrapped
        assert wrappers.wrap(RetryOptions(attempts=2), answer) is not wrapped

    def test_each_function_gets_its_own(self) -> None:
        """Two functions never share a wrapper."""
        wrappers, options = RetryWrappers(), RetryOptions()
        assert wrappers.wrap(options, answer) is not wrappers.wrap(options, str.upper)

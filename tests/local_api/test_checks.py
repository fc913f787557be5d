from __future__ import annotations

import pytest

from workbench.local_api.checks import is_finite_number


class TestIsFiniteNumber:
    """What counts as a number for settings."""

    @pytest.mark.parametrize("value", [0, 1, -3, 0.5, 1e300])
    def test_finite_numbers(self, value: object) -> None:
        """Ints and finite floats are numbers."""
        assert is_finite_number(value)

    @pytest.mark.parametrize("value", [True, False, float("nan"), float("inf"), "1", None])
    def test_not_numbers(self, value: object) -> None:
        """Booleans, NaN, infinities and strings are not."""
        assert not is_finite_number(value)

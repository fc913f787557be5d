from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.processing.checksum import canonical_json, content_checksum

#: JSON-like data as a source sends it: any text, ints of any size, floats, nesting.
JSON_DATA = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


class TestContentChecksum:
    """The digest is the same whichever encoder writes the canonical JSON."""

    @given(st.dictionaries(st.text(), JSON_DATA, max_size=6))
    def test_digest_is_blake2b_of_the_canonical_json(self, data: dict[str, Any]) -> None:
        """Whichever encoder runs, the digest is BLAKE2b-128 of canonical_json's UTF-8 bytes."""
        try:
            expected = canonical_json(data).encode("utf-8")
        except UnicodeEncodeError:
            with pytest.raises(UnicodeEncodeError):
                content_checksum(data)
            return
        assert content_checksum(data) == hashlib.blake2b(expected, digest_size=16).hexdigest()

    @pytest.mark.parametrize(
        "data",
        [{"f": 1e16}, {"f": 0.1}, {"big": 2**64}, {"neg": -(2**63) - 1}, {"k": {1: "int key"}}],
    )
    def test_values_orjson_writes_otherwise_use_json(self, data: dict[str, Any]) -> None:
        """Floats, integers past 64 bits and non-string keys digest their canonical_json."""
        expected = hashlib.blake2b(canonical_json(data).encode(), digest_size=16).hexdigest()
        assert content_checksum(data) == expected

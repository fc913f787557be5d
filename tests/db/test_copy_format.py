from __future__ import annotations

import json

import pytest

from workbench.db.copy_format import (
    copy_payload,
    data_json,
    data_json_bytes,
    ingested_data_rows,
)
from workbench.errors import StorageDataError
from workbench.processing import ProcessedRecord

TRICKY = 'tab\there\nnew\\line\r "quoted" \\N ünï 🚀'


def reference_rows(records: list[ProcessedRecord], source: str, run_id: str | None) -> bytes:
    """The same rows through the plain, value-by-value encoder."""
    rows = [
        (
            source,
            r.resource,
            r.external_id,
            json.dumps(r.data, separators=(",", ":"), ensure_ascii=False),
            r.checksum,
            run_id,
        )
        for r in records
    ]
    return copy_payload(rows)


class TestDataJson:
    """Serialising a record's data."""

    def test_same_json_as_the_standard_library(self) -> None:
        """The output of orjson parses back to the data given, tricky text included."""
        data = {"a": [1, 2, None, True], "é": TRICKY, "n": {"x": -(2**63), "y": 2**64 - 1}}
        assert json.loads(data_json_bytes(data)) == data
        assert data_json(data) == data_json_bytes(data).decode("utf-8")

    @pytest.mark.parametrize(
        "data",
        [{1: "int key"}, {"big": 2**70}],
        ids=["non-str key", "big int"],
    )
    def test_what_orjson_refuses_falls_back_to_json(self, data: dict) -> None:
        """Keys that are not strings and integers past 64 bits are written as json writes them."""
        expected = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        assert data_json_bytes(data) == expected

    def test_unpaired_surrogate_is_a_data_error(self) -> None:
        """Text UTF-8 cannot carry refuses the record as bad data."""
        with pytest.raises(StorageDataError):
            data_json_bytes({"x": "\ud800"})


class TestIngestedDataRows:
    """Whole batches of records as one COPY buffer."""

    def test_matches_the_value_by_value_encoder(self) -> None:
        """The fast encoder writes exactly the bytes copy_payload writes for the same rows."""
        records = [
            ProcessedRecord("posts", "1", {"title": "plain"}, "c1"),
            ProcessedRecord("posts", "tricky\t\\N\n", {TRICKY: TRICKY, "k\tey": "\\"}, "c\t2"),
            ProcessedRecord("comments\n", "3", {}, "c3"),
        ]
        for run_id in ("run-1", None):
            assert ingested_data_rows(records, "src\\", run_id) == reference_rows(
                records, "src\\", run_id
            )

    def test_no_records_no_bytes(self) -> None:
        """An empty batch encodes as an empty buffer."""
        assert ingested_data_rows([], "src", None) == b""

    def test_unencodable_key_is_a_data_error(self) -> None:
        """An external id UTF-8 cannot carry refuses the batch as bad data."""
        with pytest.raises(StorageDataError):
            ingested_data_rows([ProcessedRecord("posts", "\ud800", {}, "c")], "src", None)

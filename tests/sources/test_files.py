"""CSV and JSON Lines files as a source: chunked by byte ranges, typed, ingested like the API."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from workbench.db.connections import Connections
from workbench.db.postgres import PostgresStore
from workbench.errors import ConfigError
from workbench.ingestion import MODES, RetryOptions
from workbench.sources.files import FileSource, column_types, nest, record_offsets, typed

FIXTURE = Path(__file__).parent.parent / "fixtures" / "jsonplaceholder-data.json"


@pytest.fixture(scope="module")
def real() -> dict[str, list[dict[str, Any]]]:
    """The real JSONPlaceholder data set."""
    return json.loads(FIXTURE.read_text())


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested objects into dotted column names, the way a CSV export would."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = json.dumps(value) if isinstance(value, bool) else value
    return flat


def write_jsonl(path: Path, records: list[Any], extra_lines: tuple[str, ...] = ()) -> Path:
    """Write records as JSON Lines, then any raw extra lines."""
    lines = [json.dumps(record) for record in records] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_csv(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write records as CSV with dotted columns for nested fields."""
    rows = [flatten(record) for record in records]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_all(source: FileSource, resource: str) -> list[Any]:
    """Read every unit of a resource in order and return the records."""
    records: list[Any] = []
    for unit in source.first_units(resource):
        records.extend(source.parse(unit, source.fetch(unit)).records)
    return records


class TestChunking:
    """Planning by byte offsets."""

    def test_units_cover_every_record_once(self, tmp_path: Path, real: dict[str, Any]) -> None:
        """Pages of 7 records cover the 100 posts exactly once, in order, the last one short."""
        source = FileSource(
            {"posts": write_jsonl(tmp_path / "p.jsonl", real["posts"])}, page_size=7
        )
        units = list(source.first_units("posts"))
        assert [u.page for u in units] == list(range(1, 16))
        assert read_all(source, "posts") == real["posts"]
        assert len(source.parse(units[-1], source.fetch(units[-1])).records) == 100 - 14 * 7

    def test_planning_is_lazy(self, tmp_path: Path, real: dict[str, Any]) -> None:
        """first_units is a generator: nothing is read until units are asked for."""
        source = FileSource({"posts": write_jsonl(tmp_path / "p.jsonl", real["posts"])})
        units = source.first_units("posts")
        assert iter(units) is units

    def test_quoted_newlines_stay_inside_one_csv_record(self, tmp_path: Path) -> None:
        """A CSV field quoted across line breaks does not split its record."""
        path = tmp_path / "t.csv"
        path.write_text('id,body\n1,"line one\nline two"\n2,plain\n')
        assert len(list(record_offsets(path, "csv"))) == 2
        source = FileSource({"posts": path}, page_size=1)
        assert read_all(source, "posts") == [
            {"id": 1, "body": "line one\nline two"},
            {"id": 2, "body": "plain"},
        ]


class TestCsvTyping:
    """CSV cells get JSON types back."""

    def test_cells_take_their_schema_type_when_they_fit(self) -> None:
        """Int and bool columns are converted when the text fits; text columns stay text."""
        assert [typed(v, int) for v in ("12", "-3", "01", "x")] == [12, -3, "01", "x"]
        assert [typed(v, bool) for v in ("true", "false", "1")] == [True, False, "1"]
        assert typed("33263", str) == "33263"
        assert typed("7", None) == "7"

    def test_column_types_follow_the_schema(self) -> None:
        """Nested schema fields give dotted column names; an unknown resource types only id."""
        assert column_types("todos") == {
            "userId": int, "id": int, "title": str, "completed": bool,
        }  # fmt: skip
        assert column_types("users")["address.geo.lat"] is str
        assert column_types("anything") == {"id": int}

    def test_dotted_columns_nest(self) -> None:
        """Dotted column names become nested objects."""
        types = column_types("users")
        assert nest({"id": "1", "address.geo.lat": "x", "address.city": "c"}, types) == {
            "id": 1,
            "address": {"geo": {"lat": "x"}, "city": "c"},
        }

    def test_a_cell_that_does_not_fit_is_rejected_downstream(self, tmp_path: Path) -> None:
        """A non-numeric userId stays text, so the processor can reject it with a reason."""
        path = tmp_path / "posts.csv"
        path.write_text("userId,id,title,body\nx,1,t,b\n")
        assert read_all(FileSource({"posts": path}), "posts") == [
            {"userId": "x", "id": 1, "title": "t", "body": "b"}
        ]

    def test_users_round_trip_through_csv(self, tmp_path: Path, real: dict[str, Any]) -> None:
        """Users exported to CSV read back exactly as the API serves them, nesting included."""
        source = FileSource({"users": write_csv(tmp_path / "u.csv", real["users"])}, page_size=3)
        assert read_all(source, "users") == real["users"]

    def test_unknown_suffix_is_a_config_error(self, tmp_path: Path) -> None:
        """Only .csv, .jsonl and .ndjson files are accepted."""
        with pytest.raises(ConfigError, match="expected a file ending in"):
            FileSource({"posts": tmp_path / "p.xml"})


@pytest.mark.parametrize("mode", ["sync", "async"])
class TestIngestingFiles:
    """The same ingestors read files without a change."""

    def test_records_land_and_bad_lines_are_rejected(
        self, mode: str, tmp_path: Path, postgres_dsn: str, real: dict[str, Any]
    ) -> None:
        """Valid lines are stored once; a broken line and an invalid record become rejects."""
        path = write_jsonl(
            tmp_path / "posts.jsonl",
            real["posts"],
            extra_lines=('{"id": 101, "userId": 1, "title": "t"', '{"id": 102, "userId": "x"}'),
        )
        source = FileSource({"posts": path}, page_size=30, name="files-test")
        ingestor = MODES[mode](
            source,
            Connections(postgres_dsn),
            resources=("posts",),
            concurrency=3,
            retry_options=RetryOptions(attempts=2, base=0.0, cap=0.0),
        )
        try:
            report = ingestor.run()
        finally:
            ingestor.close()
        assert report.ok
        assert (report.pages, report.fetched, report.inserted, report.rejected) == (4, 102, 100, 2)
        with PostgresStore(postgres_dsn) as store:
            assert store.count(source="files-test", resource="posts") == 100
            reasons = sorted(row["reason"] for row in store.rejects(source="files-test"))
        assert len(reasons) == 2
        assert any("userId" in reason for reason in reasons)

"""Every record accounted for: served = landed + rejected + lost, and nothing stored twice.

After a scenario's runs, its database is compared with what the source holds:

* **served**: the distinct records the source holds for the run's resources and pages,
  as it answers them: the data set's records page by page (``SourceSpec``), with a hostile
  page's records as that page renders them (``workbench.local_api.hostile``) and read by
  the pipeline's own parser and processor. So ``duplicate_ids`` serves page 1's ids again
  (no new record), and an element no parser can read (``deep``, ``invalid_utf8``) is a
  served record with no id ("keyless"). A page that cannot be read at all (an HTML answer,
  a redirect elsewhere, a page that always fails) still holds its data set records.
* **landed**: the distinct rows stored under the run's source (``ingested_data``).
* **rejected**: served records that did not land and were refused: a record reject with
  their id (``ingest_rejects``), or a page recorded as failed (a reject whose text is the
  page's URL) that holds them. Keyless served records count as rejected up to the number
  of keyless record rejects (plus the keyless records of failed pages).
* **duplicated**: rows beyond one per record (impossible under the primary key, counted
  all the same) plus rows under ids the source never served.
* **lost**: served - landed - rejected, counted as the served records neither stored nor
  refused; a row under an id never served (already a duplicate) cannot hide a lost one.

Records that failed in one run and landed in a later one (a resumed run) are landed. The
served records are loaded into a temporary table (COPY) so a million of them are compared
in SQL rather than held in Python.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import psycopg2

from workbench.db.postgres import PostgresStore
from workbench.error_mapping import map_psycopg2_errors
from workbench.local_api import hostile
from workbench.local_api.data import Dataset
from workbench.processing import Processor
from workbench.sources.json_array import parse_array

__all__ = ["Accounting", "PageHolding", "SourceSpec", "account", "holdings"]

#: Served rows sent to Postgres per COPY.
COPY_CHUNK = 100_000


@dataclass(frozen=True)
class SourceSpec:
    """The data a run reads: the local API's data set, paging and hostile pages."""

    seed: int
    scale: float
    resources: tuple[str, ...]
    page_size: int
    hostile: tuple[str, ...] = ()
    hostile_page: int = 2


@dataclass(frozen=True)
class PageHolding:
    """What one page holds: the external ids of its records, and how many have none."""

    resource: str
    page: int
    ids: range | list[str]
    keyless: int = 0


@dataclass(frozen=True)
class Accounting:
    """The five numbers of one scenario row (see the module docstring for each)."""

    served: int
    landed: int
    rejected: int
    duplicated: int
    lost: int

    @property
    def balanced(self) -> bool:
        """True when nothing is lost or stored twice."""
        return self.duplicated == 0 and self.lost == 0


def _record_kind(spec: SourceSpec, page: int) -> str | None:
    """Return the hostile record kind page ``page`` is answered with, as the server picks it."""
    kinds = [kind for kind in spec.hostile if kind not in hostile.HEADER_KINDS]
    index = page - spec.hostile_page
    kind = kinds[index] if 0 <= index < len(kinds) else None
    return kind if kind in hostile.RECORD_KINDS else None


def holdings(spec: SourceSpec) -> Iterator[PageHolding]:
    """Yield every page the source holds for ``spec``, in order, as it answers them."""
    dataset = Dataset(seed=spec.seed, scale=spec.scale)
    size = spec.page_size
    for resource in spec.resources:
        ids = dataset.all_ids(resource)
        for page in range(1, -(-len(ids) // size) + 1):
            window = ids[(page - 1) * size : page * size]
            kind = _record_kind(spec, page)
            if kind is None:
                yield PageHolding(resource, page, window)
                continue
            body = hostile.RECORD_KINDS[kind](list(dataset.records(resource, window)))
            batch = Processor(resource).process_many(parse_array(body, url=""))
            keyed = [r.external_id for r in batch.records]
            keyed += [r.external_id for r in batch.rejects if r.external_id is not None]
            keyless = sum(r.external_id is None for r in batch.rejects)
            yield PageHolding(resource, page, keyed, keyless)


def failed_page(raw: str) -> tuple[str, int] | None:
    """Return (resource, page) when a reject's text is a page URL (a failed page), else None."""
    parts = urlsplit(raw)
    pages = parse_qs(parts.query).get("_page")
    if parts.scheme not in ("http", "https") or not pages or not pages[0].isdigit():
        return None
    return parts.path.rstrip("/").rsplit("/", 1)[-1], int(pages[0])


_SERVED_TABLE = """
    CREATE TEMP TABLE served (resource text, external_id text, page int) ON COMMIT DROP;
    CREATE TEMP TABLE failed (resource text, page int) ON COMMIT DROP
"""
_COUNTS = """
    WITH stored AS (SELECT resource, external_id FROM ingested_data WHERE source = %(source)s),
    keys AS (SELECT DISTINCT resource, external_id FROM served),
    refused AS (
        SELECT DISTINCT s.resource, s.external_id FROM served s
        WHERE EXISTS (SELECT 1 FROM ingest_rejects r WHERE r.source = %(source)s
                      AND r.resource = s.resource AND r.external_id = s.external_id)
           OR EXISTS (SELECT 1 FROM failed f WHERE f.resource = s.resource AND f.page = s.page)
    )
    SELECT
        (SELECT count(*) FROM keys) AS served,
        (SELECT count(*) FROM stored) AS rows,
        (SELECT count(*) FROM (SELECT DISTINCT resource, external_id FROM stored) d) AS landed,
        (SELECT count(*) FROM stored d WHERE NOT EXISTS (SELECT 1 FROM keys k
            WHERE k.resource = d.resource AND k.external_id = d.external_id)) AS unserved,
        (SELECT count(*) FROM refused r WHERE NOT EXISTS (SELECT 1 FROM stored d
            WHERE d.resource = r.resource AND d.external_id = r.external_id)) AS refused,
        (SELECT count(*) FROM keys k WHERE NOT EXISTS (SELECT 1 FROM stored d
            WHERE d.resource = k.resource AND d.external_id = k.external_id)
          AND NOT EXISTS (SELECT 1 FROM refused r
            WHERE r.resource = k.resource AND r.external_id = k.external_id)) AS lost
"""
_KEYLESS_REJECTS = """
    SELECT raw FROM ingest_rejects WHERE source = %s AND external_id IS NULL
"""


def _copy_served(
    cur: psycopg2.extensions.cursor, pages: Iterator[PageHolding]
) -> dict[tuple[str, int], int]:
    """COPY every keyed served record into ``served``; return keyless counts by page."""
    keyless: dict[tuple[str, int], int] = {}
    buffer, lines = io.StringIO(), 0
    for holding in pages:
        if holding.keyless:
            keyless[(holding.resource, holding.page)] = holding.keyless
        for external_id in holding.ids:
            # Ids come from our own data set or processor: no tab, newline or backslash.
            buffer.write(f"{holding.resource}\t{external_id}\t{holding.page}\n")
        lines += len(holding.ids)
        if lines >= COPY_CHUNK:
            buffer.seek(0)
            cur.copy_expert("COPY served FROM STDIN", buffer)
            buffer, lines = io.StringIO(), 0
    buffer.seek(0)
    cur.copy_expert("COPY served FROM STDIN", buffer)
    cur.execute("CREATE INDEX ON served (resource, external_id); ANALYZE served")
    return keyless


def account(dsn: str, source: str, spec: SourceSpec) -> Accounting:
    """Compare what the database at ``dsn`` holds under ``source`` with what was served."""
    with PostgresStore(dsn, maxconn=1) as store:
        store.ensure_schema()  # a run that never reached Postgres made no tables
    with map_psycopg2_errors():
        connection = psycopg2.connect(dsn)
    try:
        with map_psycopg2_errors(), connection, connection.cursor() as cur:
            cur.execute(_SERVED_TABLE)
            keyless = _copy_served(cur, holdings(spec))
            cur.execute(_KEYLESS_REJECTS, (source,))
            pages = [failed_page(raw) for (raw,) in cur.fetchall()]
            failed = {page for page in pages if page is not None}
            if failed:
                cur.executemany("INSERT INTO failed VALUES (%s, %s)", sorted(failed))
            cur.execute(_COUNTS, {"source": source})
            served, rows, landed, unserved, refused, lost = cur.fetchone() or ()
    finally:
        connection.close()
    keyless_served = sum(keyless.values())
    keyless_refused = pages.count(None) + sum(keyless.get(page, 0) for page in failed)
    keyless_refused = min(keyless_served, keyless_refused)
    return Accounting(
        served=served + keyless_served,
        landed=landed,
        rejected=refused + keyless_refused,
        duplicated=rows - landed + unserved,
        lost=lost + keyless_served - keyless_refused,
    )

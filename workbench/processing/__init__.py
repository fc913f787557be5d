"""Cleaning, validation, checksumming and enrichment of source records.

``Processor`` works one record at a time; ``vectorised.PandasProcessor`` does the same a page
at a time with pandas, and is not imported here, so that importing this package never
imports pandas (``registry.processor_class`` names either).
"""

from __future__ import annotations

from workbench.processing.processor import (
    RAW_TEXT_LIMIT,
    ProcessedBatch,
    ProcessedRecord,
    Processor,
    ProcessResult,
    Reject,
    Unparsed,
)
from workbench.processing.schemas import SCHEMAS, Schema, schema_for
from workbench.processing.steps import (
    DEFAULT_ENRICHMENT,
    BurnCpu,
    CleanStrings,
    NormaliseEmail,
    Step,
    Validate,
    WordCounts,
    canonical_json,
    clean_text,
    clean_value,
    content_checksum,
)

__all__ = [
    "DEFAULT_ENRICHMENT",
    "RAW_TEXT_LIMIT",
    "SCHEMAS",
    "BurnCpu",
    "CleanStrings",
    "NormaliseEmail",
    "ProcessResult",
    "ProcessedBatch",
    "ProcessedRecord",
    "Processor",
    "Reject",
    "Schema",
    "Step",
    "Unparsed",
    "Validate",
    "WordCounts",
    "canonical_json",
    "clean_text",
    "clean_value",
    "content_checksum",
    "schema_for",
]

from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.errors import ConfigError
from workbench.processing import Processor
from workbench.processing.registry import PROCESSORS, processor_class, processor_module


class TestRegistry:
    """Each ``--processor`` name stands for one class, imported when it is chosen."""

    def test_each_name_stands_for_its_class(self) -> None:
        """``records`` is the per-record Processor, ``pandas`` the vectorised one."""
        from workbench.processing.vectorised import PandasProcessor

        assert list(PROCESSORS) == ["records", "pandas"]
        assert processor_class("records") is Processor
        assert processor_class("pandas") is PandasProcessor
        assert processor_module("pandas") == "workbench.processing.vectorised"

    def test_an_unknown_name_is_a_config_error_naming_the_known_ones(self) -> None:
        """A name that is not a processor is refused with the list of those that are."""
        with pytest.raises(ConfigError, match="known processors: records, pandas"):
            processor_class("numpy")

    def test_the_per_record_processor_never_imports_pandas(self) -> None:
        """Settings, the CLI and an ingestion with ``records`` leave pandas unimported."""
        code = (
            "import sys, workbench.commands.ingest, workbench.ingestion.processes;"
            "from workbench.processing.registry import processor_class;"
            "processor_class('records'); print('pandas' in sys.modules)"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.stdout.strip() == "False", done.stderr

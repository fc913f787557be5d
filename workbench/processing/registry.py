"""The processor registry: every ``--processor`` name and the class it stands for.

``records`` is the per-record ``Processor``; ``pandas`` the vectorised ``PandasProcessor``
(``workbench.processing.vectorised``). A class's module is imported only when it is chosen,
so a run that processes records one at a time never pays for importing pandas.
"""

from __future__ import annotations

import importlib

from workbench.errors import ConfigError
from workbench.processing.processor import Processor

__all__ = ["PROCESSORS", "processor_class", "processor_module"]

#: Each processor's name, with the module and the class it names.
PROCESSORS: dict[str, tuple[str, str]] = {
    "records": ("workbench.processing.processor", "Processor"),
    "pandas": ("workbench.processing.vectorised", "PandasProcessor"),
}


def processor_module(name: str) -> str:
    """Return the module that defines processor ``name`` (ConfigError for an unknown name)."""
    if name not in PROCESSORS:
        known = ", ".join(PROCESSORS)
        raise ConfigError(f"unknown processor {name!r}; known processors: {known}")
    return PROCESSORS[name][0]


def processor_class(name: str) -> type[Processor]:
    """Return the processor class ``name`` stands for, importing its module if need be."""
    cls: type[Processor] = getattr(
        importlib.import_module(processor_module(name)), PROCESSORS[name][1]
    )
    return cls

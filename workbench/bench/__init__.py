"""``workbench bench``: scenarios, repetitions, limits, the peer, results, targets and charts.

``run_benchmark(plan, scenarios, folder)`` measures; ``write_summary(folder)`` renders a
results folder; ``load_results(read_rows(folder))`` reads one back for a notebook.
"""

from __future__ import annotations

"""Write a README section from a run folder: the benchmark's results or the reliability table.

    .venv/bin/python benchmarks/update_readme.py benchmarks/results/<timestamp>            # print
    .venv/bin/python benchmarks/update_readme.py benchmarks/results/<timestamp> README.md  # write
    .venv/bin/python benchmarks/update_readme.py benchmarks/reliability/<timestamp> README.md

A benchmark run (``make bench``) gives the results section: the run's headline table, its
targets' verdicts (``benchmarks/targets.toml``) and its headline chart, between ``START``
and ``END``. A reliability run (``make reliability``, whose rows count the records served)
gives the reliability section: the table of every scenario, between ``RELIABILITY_START``
and ``RELIABILITY_END``. Everything between a section's markers in the README is replaced.
"""

from __future__ import annotations

import sys
from pathlib import Path

from workbench.bench.results import environment_from_row, load_results, read_rows
from workbench.bench.summary import headline_table, targets_table
from workbench.bench.targets import evaluate, load_targets
from workbench.reliability.table import load_run, summary

START = "<!-- bench-results:start -->"
END = "<!-- bench-results:end -->"
RELIABILITY_START = "<!-- reliability:start -->"
RELIABILITY_END = "<!-- reliability:end -->"
TARGETS = Path(__file__).with_name("targets.toml")


def results_section(folder: Path, relative_to: Path, targets: Path = TARGETS) -> str:
    """Return the Markdown block for the run in ``folder``, links relative to ``relative_to``."""
    rows = read_rows(folder)
    if not rows:
        raise FileNotFoundError(f"{folder} has no results.csv rows")
    results = load_results(rows)
    env = environment_from_row(rows[-1])
    link = folder.resolve().relative_to(relative_to.resolve()).as_posix()
    return "\n".join([
        START,
        f"From the run in [`{link}/`]({link}/summary.md) ({rows[-1]['plan']} plan, "
        f"{env.cpu_count} CPUs, Python {env.python}, PostgreSQL {env.postgres}, "
        f"Valkey {env.valkey}, dlt {env.dlt or 'not installed'}"
        f"{f', lock {env.lock}' if env.lock else ''}); medians of 3 repetitions.\n",
        headline_table(results),
        targets_table(evaluate(load_targets(targets), results)),
        f"![end to end: records/s of every mode, the limits and the peer]({link}/headline.png)\n",
        END,
    ])  # fmt: skip


def reliability_section(folder: Path, relative_to: Path) -> str:
    """Return the Markdown block of the reliability run in ``folder``."""
    link = folder.resolve().relative_to(relative_to.resolve()).as_posix()
    return "\n".join([
        RELIABILITY_START,
        f"From the run in [`{link}/`]({link}/summary.md): "
        + _lower_first(summary(load_run(folder))),
        RELIABILITY_END,
    ])  # fmt: skip


def _lower_first(text: str) -> str:
    """Continue a sentence with ``text``: its first letter in lower case."""
    return text[:1].lower() + text[1:]


def is_reliability_run(folder: Path) -> bool:
    """Tell whether a run folder holds a reliability run (rows that count records served)."""
    rows = read_rows(folder)
    return bool(rows) and "served" in rows[0]


def replace_section(text: str, section: str) -> str:
    """Return ``text`` with the block between the section's own markers replaced by it."""
    lines = section.splitlines()
    start, end = text.index(lines[0]), text.index(lines[-1]) + len(lines[-1])
    return text[:start] + section + text[end:]


def section_for(folder: Path, relative_to: Path) -> str:
    """Return the section a run folder gives: the reliability table or benchmark results."""
    if is_reliability_run(folder):
        return reliability_section(folder, relative_to)
    return results_section(folder, relative_to)


def main(argv: list[str]) -> int:
    """Print the section, or write it into the README given as second argument."""
    folder = Path(argv[0])
    if len(argv) == 1:
        print(section_for(folder, Path.cwd()))
        return 0
    readme = Path(argv[1])
    section = section_for(folder, readme.parent)
    readme.write_text(replace_section(readme.read_text(), section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Write the README's results section from a results folder (the project's own script).

    .venv/bin/python benchmarks/update_readme.py benchmarks/results/<timestamp>            # print
    .venv/bin/python benchmarks/update_readme.py benchmarks/results/<timestamp> README.md  # write

The section holds the run's headline table, its targets' verdicts (``benchmarks/targets.toml``)
and its headline chart; everything between ``START`` and ``END`` in the README is replaced.
"""

from __future__ import annotations

import sys
from pathlib import Path

from workbench.bench.results import environment_from_row, load_results, read_rows
from workbench.bench.summary import headline_table, targets_table
from workbench.bench.targets import evaluate, load_targets

START = "<!-- bench-results:start -->"
END = "<!-- bench-results:end -->"
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
        f"Valkey {env.valkey}, dlt {env.dlt or 'not installed'}); medians of 3 repetitions.\n",
        headline_table(results),
        targets_table(evaluate(load_targets(targets), results)),
        f"![end to end: records/s of every mode, the limits and the peer]({link}/headline.png)\n",
        END,
    ])  # fmt: skip


def replace_section(text: str, section: str) -> str:
    """Return ``text`` with the block between the markers replaced by ``section``."""
    start, end = text.index(START), text.index(END) + len(END)
    return text[:start] + section + text[end:]


def main(argv: list[str]) -> int:
    """Print the section, or write it into the README given as second argument."""
    folder = Path(argv[0])
    if len(argv) == 1:
        print(results_section(folder, Path.cwd()))
        return 0
    readme = Path(argv[1])
    section = results_section(folder, readme.parent)
    readme.write_text(replace_section(readme.read_text(), section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

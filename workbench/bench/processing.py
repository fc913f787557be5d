"""Processing alone: one processor over the same posts, batch by batch, with no I/O at all.

The ``processors`` scenario's own trial: what a processor costs per record, apart from
fetching, deduplicating and writing, on pages of 100 (what every mode hands it) and on larger
batches (where a column at a time has more rows to spread its fixed cost over).
"""

from __future__ import annotations

import gc
import time

from workbench.bench.runner import IncompleteRunError, Sample
from workbench.bench.scenarios import Case
from workbench.local_api import Dataset
from workbench.processing.registry import processor_class

__all__ = ["ProcessTrial"]


class ProcessTrial:
    """``case.mode``'s processor over ``case.size`` posts in batches of ``case.page_size``."""

    def __init__(self, case: Case, seed: int = 0) -> None:
        self.case = case
        posts = Dataset(seed=seed, scale=max(1.0, case.size / 100)).slice("posts", 0, case.size)
        step = case.page_size
        self.batches = [posts[start : start + step] for start in range(0, len(posts), step)]
        self.processor = processor_class(case.mode)("posts")

    def warm_up(self) -> None:
        """Process the first batch, untimed (imports, regex compilation, caches)."""
        self.processor.process_many(self.batches[0])

    def run(self) -> Sample:
        """Process every batch, timed; every post must be accepted."""
        gc.collect()  # the previous repetition's garbage is not this one's to collect
        started = time.perf_counter()
        accepted = sum(len(self.processor.process_many(batch).records) for batch in self.batches)
        seconds = time.perf_counter() - started
        if accepted != self.case.size:
            raise IncompleteRunError(
                f"{self.case.name}: {accepted} of {self.case.size} posts accepted"
            )
        return Sample(seconds, accepted)

    def close(self) -> None:
        """Nothing to release: the trial holds only its posts."""

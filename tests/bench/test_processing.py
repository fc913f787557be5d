from __future__ import annotations

import pytest

from workbench.bench.processing import ProcessTrial
from workbench.bench.runner import IncompleteRunError, measure
from workbench.bench.scenarios import Case
from workbench.processing import ProcessedBatch


class RefuseAll:
    """A processor that accepts no record at all."""

    def process_many(self, raws: object) -> ProcessedBatch:
        """Return an empty batch, whatever the records."""
        return ProcessedBatch("posts", [], [])


class TestProcessTrial:
    """A processor alone on posts, batch by batch."""

    @pytest.mark.parametrize("processor", ["records", "pandas"])
    def test_each_repetition_processes_every_post(self, processor: str) -> None:
        """Every repetition accepts all the posts, in batches of the case's size."""
        trial = ProcessTrial(Case("processors", "process", processor, 250, page_size=100))
        assert [len(batch) for batch in trial.batches] == [100, 100, 50]
        samples = measure(trial, 3)
        assert [sample.count for sample in samples] == [250, 250, 250]
        assert all(sample.seconds > 0 for sample in samples)

    def test_posts_refused_make_the_repetition_incomplete(self) -> None:
        """A processor that accepts fewer posts than the case has voids the repetition."""
        trial = ProcessTrial(Case("processors", "process", "records", 100, page_size=100))
        trial.processor = RefuseAll()  # type: ignore[assignment]
        with pytest.raises(IncompleteRunError, match="0 of 100 posts"):
            trial.run()

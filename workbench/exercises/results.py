"""What a grading found: each behaviour passed or failed, why, a hint, and any measured figure.

A ``Grade`` reads as text in a terminal (``str``), as a table in a notebook (``_repr_html_``)
and as JSON for tools (``as_dict``).
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from itertools import groupby
from typing import Any

from workbench.exercises.catalog import Exercise

__all__ = ["Behaviour", "ExerciseFailed", "Grade"]


@dataclass(frozen=True)
class Behaviour:
    """One behaviour test's outcome, in the words the learner reads."""

    #: The test class's one-line docstring: what part of the task this belongs to.
    group: str
    #: The test's one-sentence docstring: the behaviour it checks.
    name: str
    #: The test function's name, for running it alone with ``-k``.
    test: str
    passed: bool
    #: Why it failed, on one line (empty when it passed).
    message: str = ""
    hint: str = ""
    #: What a timing behaviour measured, e.g. ``5.8x faster than one at a time``.
    measured: str = ""


@dataclass(frozen=True, repr=False)
class Grade:
    """The behaviours of one exercise run against one answer."""

    exercise: Exercise
    origin: str
    behaviours: tuple[Behaviour, ...]

    @property
    def passed(self) -> bool:
        """Tell whether there were behaviours and every one passed."""
        return bool(self.behaviours) and all(b.passed for b in self.behaviours)

    @property
    def passing(self) -> int:
        """Return how many behaviours passed."""
        return sum(b.passed for b in self.behaviours)

    @property
    def failed(self) -> list[Behaviour]:
        """Return the behaviours that failed, in order."""
        return [b for b in self.behaviours if not b.passed]

    def headline(self) -> str:
        """Return ``retry (your notebook): 3 of 12 behaviours pass``."""
        return (
            f"{self.exercise.name} ({self.origin}): "
            f"{self.passing} of {len(self.behaviours)} behaviours pass"
        )

    def __repr__(self) -> str:
        return f"<Grade {self.headline()}>"

    def __str__(self) -> str:
        lines = [f"Exercise {self.exercise.number:02d} · {self.exercise.title}", self.headline()]
        for group, behaviours in groupby(self.behaviours, key=lambda b: b.group):
            lines += ["", group]
            for b in behaviours:
                figure = f"  [measured: {b.measured}]" if b.measured else ""
                lines.append(f"  {'PASS' if b.passed else 'FAIL'}  {b.name}{figure}")
                if not b.passed:
                    lines.append(f"        why:  {b.message}")
                    if b.hint:
                        lines.append(f"        hint: {b.hint}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = []
        for group, behaviours in groupby(self.behaviours, key=lambda b: b.group):
            rows.append(f'<tr><th colspan="2" style="text-align:left">{_e(group)}</th></tr>')
            for b in behaviours:
                mark = "&#10004;" if b.passed else "&#10008;"
                colour = "#1a7f37" if b.passed else "#cf222e"
                detail = f"<br><small>measured: {_e(b.measured)}</small>" if b.measured else ""
                if not b.passed:
                    detail += f"<br><small><b>why:</b> <code>{_e(b.message)}</code></small>"
                    if b.hint:
                        detail += f"<br><small><b>hint:</b> {_e(b.hint)}</small>"
                rows.append(
                    f'<tr><td style="color:{colour};vertical-align:top">{mark}</td>'
                    f'<td style="text-align:left">{_e(b.name)}{detail}</td></tr>'
                )
        return (
            f"<p><b>Exercise {self.exercise.number:02d} · {_e(self.exercise.title)}</b><br>"
            f"{_e(self.headline())}</p><table>{''.join(rows)}</table>"
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the grade as JSON-ready data."""
        return {
            "exercise": self.exercise.name,
            "origin": self.origin,
            "passed": self.passed,
            "behaviours": [asdict(b) for b in self.behaviours],
        }


class ExerciseFailed(AssertionError):
    """Raised by ``check`` when some behaviour failed, so a notebook run stops there."""

    def __init__(self, grade: Grade) -> None:
        failed = [b.test for b in grade.failed]
        shown = ", ".join(failed[:3]) + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")
        super().__init__(f"{grade.headline()}; failing: {shown} (see the table above)")
        self.grade = grade


def _e(text: str) -> str:
    """Escape text for HTML."""
    return html.escape(text, quote=False)

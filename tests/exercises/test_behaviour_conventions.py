"""Every behaviour test reads well to a learner: a sentence, a hint, asserts that explain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from workbench.exercises.catalog import EXERCISES
from workbench.services.common import project_root

MODULES = [
    project_root() / "workbench" / "exercises" / "behaviours" / f"{e.module}.py" for e in EXERCISES
]


def behaviour_tests(tree: ast.Module) -> list[tuple[ast.ClassDef, ast.FunctionDef]]:
    """Return each test method with its class."""
    return [
        (cls, fn)
        for cls in tree.body
        if isinstance(cls, ast.ClassDef) and cls.name.startswith("Test")
        for fn in cls.body
        if isinstance(fn, ast.FunctionDef) and fn.name.startswith("test_")
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
class TestBehaviourModule:
    """One exercise's behaviours module."""

    def test_every_behaviour_has_a_sentence_a_hint_and_a_group(self, path: Path) -> None:
        """Each test has a one-sentence docstring and a hint; its class has a docstring."""
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tests = behaviour_tests(tree)
        assert tests, "no behaviour tests"
        for cls, fn in tests:
            doc = ast.get_docstring(fn) or ""
            assert ast.get_docstring(cls), f"{cls.name} has no docstring"
            assert doc.endswith(".") and "\n" not in doc, f"{fn.name}: {doc!r}"
            hints = [
                d
                for d in fn.decorator_list
                if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "hint"
            ]
            assert len(hints) == 1, f"{fn.name} has no @hint(...)"

    def test_every_assert_tells_the_learner_what_went_wrong(self, path: Path) -> None:
        """No bare assert: each carries a message, since the grader shows only that line."""
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bare = [
            node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert) and not node.msg
        ]
        assert not bare, f"asserts without a message at lines {bare}"

"""The behaviour tests of each exercise: ordinary pytest tests of the ``impl`` fixture.

One module per exercise. Each test states one behaviour in its docstring, carries a
one-line ``hint`` marker for the learner, and asserts with a message that says what was
expected and what happened. Timing behaviours record their measured figure with
``record_property("measured", ...)`` and judge it against a baseline measured in the same
run, never against a fixed deadline.
"""

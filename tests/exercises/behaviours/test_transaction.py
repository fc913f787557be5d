"""The transaction behaviours: the model answer passes every one, the stub fails every one."""

# Everything workbench.exercises.behaviours.transaction defines, its test classes and their
# fixtures, runs here with `impl` from ../conftest.py.
from workbench.exercises.behaviours.transaction import *  # noqa: F403

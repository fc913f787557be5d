"""The dedup behaviours: the model answer passes every one, the stub fails every one."""

# Everything workbench.exercises.behaviours.dedup defines, its test classes and their
# fixtures, runs here with `impl` from ../conftest.py.
from workbench.exercises.behaviours.dedup import *  # noqa: F403

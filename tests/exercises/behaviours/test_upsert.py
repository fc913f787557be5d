"""The upsert behaviours: the model answer passes every one, the stub fails every one."""

# Everything workbench.exercises.behaviours.upsert defines, its test classes and their
# fixtures, runs here with `impl` from ../conftest.py.
from workbench.exercises.behaviours.upsert import *  # noqa: F403

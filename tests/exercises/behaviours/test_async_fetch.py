"""The async_fetch behaviours: the model answer passes every one, the stub fails every one."""

# Everything workbench.exercises.behaviours.async_fetch defines, its test classes and their
# fixtures, runs here with `impl` from ../conftest.py.
from workbench.exercises.behaviours.async_fetch import *  # noqa: F403

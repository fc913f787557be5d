"""Sub-commands of the ``workbench`` CLI, one module per verb, each with ``register()``."""

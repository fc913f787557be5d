"""Allow ``python -m workbench``."""

from workbench.main import main

raise SystemExit(main())

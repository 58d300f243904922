"""``python -m pytest_agentops.cli``: the ``agentops`` command without its console script."""

import sys

from pytest_agentops.cli import main

sys.exit(main())

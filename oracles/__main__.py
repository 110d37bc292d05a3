"""``python -m oracles`` runs the manualbp command line."""

import sys

from oracles.cli import main

sys.exit(main())

"""``python -m layergraph`` runs the ``layergraph`` command."""

import sys

from .cli import main

sys.exit(main())

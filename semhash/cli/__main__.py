"""``python -m semhash.cli``: the ``semhash`` command."""

import sys

from . import main

sys.exit(main())

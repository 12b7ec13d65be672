"""``python -m semhash.cli``: the ``semhash`` command."""

from . import main

main()

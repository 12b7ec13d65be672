"""``semhash evaluate``; the command lives in :mod:`semhash.eval.cli` (``semhash.cli`` loads it
lazily by this module's path)."""

from .eval.cli import _command_line, evaluate

__all__ = ["_command_line", "evaluate"]

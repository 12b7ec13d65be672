"""The optional ``eval`` extra: the modules some methods and the plots import beyond semhash's
own dependencies, and how to tell which are missing (before any data is read)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

EVAL_EXTRA = "pip install 'semhash[eval]'"
PLOT_MODULES = ("matplotlib",)


def missing_modules(modules: Iterable[str]) -> list[str]:
    """The ``modules`` that cannot be imported."""
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing

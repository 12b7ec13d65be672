"""The results dictionary of a run, as ``results.json`` holds it: JSON-safe values and accessors
shared by the report and the plots."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

# Published 20 Newsgroups precision@100 (percent), quoted from the papers, never measured here.
QUOTED_20NG_P100 = {
    "AMMI": {16: 55.18, 32: 59.56, 64: 63.98, 128: 66.18},
    "SNUH": {16: 54.59, 32: 62.49, 64: 65.13, 128: 67.51},
}

# The LSH and STH rows of the same papers' tables (percent, as issue 18 quotes them), for the
# literature protocol's calibration; also QUOTED, never measured here.
QUOTED_20NG_LITERATURE_P100 = {
    "LSH": {16: 6.0, 32: 6.7, 64: 7.7, 128: 9.5},
    "STH": {16: 52.4, 32: 58.6, 64: 58.1, 128: 54.4},
}


def json_safe(obj: Any) -> Any:
    """``obj`` with string keys, lists for tuples, plain Python numbers and ``None`` for NaN/inf."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def quoted_block(rows: Mapping[str, Mapping[int, float]] = QUOTED_20NG_P100) -> dict[str, Any] | None:
    """Published numbers as results.json records them (``None`` when there are none)."""
    if not rows:
        return None
    return {
        "note": "Published 20 Newsgroups precision@100 (percent), QUOTED from the papers, not measured here.",
        "p100_percent": {name: {str(b): v for b, v in row.items()} for name, row in rows.items()},
    }


def runs_by_bits(method: dict[str, Any]) -> dict[int | None, dict[str, Any]]:
    """A method's runs keyed by code length (``None`` for a reference)."""
    return {run["n_bits"]: run for run in method["runs"]}


def result_bits(results: dict[str, Any]) -> list[int]:
    """Bit lengths present in the results, ascending."""
    return sorted({r["n_bits"] for m in results["methods"].values() for r in m["runs"] if r["n_bits"] is not None})

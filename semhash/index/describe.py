"""What ``semhash info`` shows of an index: its parameters, counts, code statistics, segments
and the documents skipped while reading its corpus."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .loading import read_skipped

if TYPE_CHECKING:
    from .semantic import SemanticIndex


def describe(index: SemanticIndex) -> dict:
    """Parameters and statistics of ``index``, as shown by ``semhash info``."""
    m = index.manifest
    balance = np.asarray(m.get("bit_balance", []))
    skipped = index.skipped if index.skipped is not None else read_skipped(index._reader, m)
    return {
        "updates": index.drift(),
        "segments": index.segment_info(),
        "path": str(index.folder) if index.folder else None,
        "format_version": m.get("format_version"),
        "semhash_version": m.get("semhash_version"),
        "created": m.get("created"),
        "documents": m.get("counts", {}).get("documents"),
        "vocabulary": m.get("counts", {}).get("vocabulary"),
        "n_bits": m.get("n_bits"),
        "params": m.get("params"),
        "training_seconds": m.get("training", {}).get("seconds"),
        "bit_balance": {
            "mean": float(balance.mean()) if balance.size else None,
            "min": float(balance.min()) if balance.size else None,
            "max": float(balance.max()) if balance.size else None,
            "per_bit": balance.tolist(),
        },
        "buckets": m.get("buckets"),
        "skipped": len(skipped or []),
        "skipped_files": skipped or [],
    }


__all__ = ["describe"]

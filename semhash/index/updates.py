"""Live updates of an index: the counts since
training kept in the manifest, and whether the added documents' codes drifted from training's.

:meth:`SemanticIndex.add` and :meth:`SemanticIndex.remove` orchestrate these (the rows
themselves are kept as delta segments: :mod:`semhash.index.segments`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..codes import unpack_bits

# `semhash info` advises retraining when at least DRIFT_MIN_DOCS documents were added and a bit's
# share among them differs from training by more than DRIFT_MIN_SHIFT and DRIFT_Z standard errors
DRIFT_MIN_DOCS = 30
DRIFT_MIN_SHIFT = 0.1
DRIFT_Z = 4.0


def count_added(manifest: dict, codes: np.ndarray, n_bits: int, added: int, replaced: int, next_row: int) -> None:
    """Record in ``manifest`` an add: counts since training, the bit sums of the new codes, the next row."""
    counts = manifest.setdefault("counts", {})
    counts["added_since_training"] = counts.get("added_since_training", 0) + added
    counts["replaced_since_training"] = counts.get("replaced_since_training", 0) + replaced
    bits = unpack_bits(codes, n_bits).sum(axis=0)
    prev = np.asarray(manifest.get("added_bit_sum") or np.zeros(n_bits), dtype=np.int64)
    manifest["added_bit_sum"] = (prev + bits).tolist()
    manifest["next_row"] = int(next_row)


def count_removed(manifest: dict, removed: int) -> None:
    """Record in ``manifest`` that ``removed`` documents were removed."""
    counts = manifest.setdefault("counts", {})
    counts["removed_since_training"] = counts.get("removed_since_training", 0) + removed


def drift(manifest: dict) -> dict[str, Any]:
    """Update counts since training, and whether the added documents' codes drifted from it.

    ``mean_abs``/``max_abs``: mean and largest per-bit difference between the share of added
    (and replacing) documents with the bit set and the training codes' share;
    ``drifted_bits``/``retrain_advised``: the bits whose difference is real, by
    :func:`drifted_bits` (``None``/``False`` below ``DRIFT_MIN_DOCS`` documents).
    """
    counts = manifest.get("counts", {})
    added = counts.get("added_since_training", 0)
    replaced = counts.get("replaced_since_training", 0)
    out = {"added_since_training": added, "replaced_since_training": replaced,
           "removed_since_training": counts.get("removed_since_training", 0),
           "mean_abs": None, "max_abs": None, "drifted_bits": None, "retrain_advised": False,
           "drift_min_docs": DRIFT_MIN_DOCS}
    training = manifest.get("training", {})
    train_balance = np.asarray(training.get("bit_balance") or [], dtype=float)
    encoded = added + replaced  # every document whose code is summed in added_bit_sum
    if not encoded or not train_balance.size or not manifest.get("added_bit_sum"):
        return out
    added_balance = np.asarray(manifest["added_bit_sum"], dtype=float) / encoded
    diff = np.abs(added_balance - train_balance)
    out.update(mean_abs=round(float(diff.mean()), 4), max_abs=round(float(diff.max()), 4),
               added_bit_balance=added_balance.round(4).tolist())
    if encoded >= DRIFT_MIN_DOCS:
        drifted = drifted_bits(train_balance, int(training.get("n_docs") or 0), added_balance, encoded)
        out.update(drifted_bits=int(drifted.sum()), retrain_advised=bool(drifted.any()))
    return out


def drifted_bits(train_share: np.ndarray, n_train: int, added_share: np.ndarray, n_added: int) -> np.ndarray:
    """Boolean per bit: the added documents set it in a share that really differs from training's.

    A two-proportion z-test per bit (pooled share, binomial standard error
    ``sqrt(p (1 - p) (1/n_train + 1/n_added))``; ``n_train = 0`` treats the training share as
    exact): a bit drifted when its share moved by more than ``DRIFT_MIN_SHIFT`` and by more than
    ``DRIFT_Z`` standard errors (4: under 1 % chance that any of 128 bits passes by sampling
    noise alone).
    """
    train_share, added_share = np.asarray(train_share, float), np.asarray(added_share, float)
    inv_train = 1.0 / n_train if n_train > 0 else 0.0
    pooled = (train_share * n_train + added_share * n_added) / (n_train + n_added)
    se = np.sqrt(pooled * (1.0 - pooled) * (inv_train + 1.0 / n_added))
    diff = np.abs(added_share - train_share)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, np.where(diff > 0, np.inf, 0.0))
    return (diff > DRIFT_MIN_SHIFT) & (z > DRIFT_Z)


__all__ = ["DRIFT_MIN_DOCS", "DRIFT_MIN_SHIFT", "DRIFT_Z", "count_added",
           "count_removed", "drift", "drifted_bits"]

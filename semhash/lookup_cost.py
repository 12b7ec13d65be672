"""Which Hamming-ball method answers a query fastest: the cost model behind ``lookup="auto"``.

Each method's cost for one query is estimated from the number of codes, the code length, the
radius and, for multi-index hashing, how clustered the codes are
(:func:`semhash.mih.collision_factors`); :func:`choose_method` picks the cheapest, or a scan for
small databases.
"""

from __future__ import annotations

import math

from .bitflip import ball_size, n_words
from .mih import mih_radii

# "auto": below this many codes a scan is cheaper than any bookkeeping
SCAN_BELOW = 4096
# "auto": never enumerate more flip masks than this for the single table
MAX_TABLE_PROBES = 2**17
# rough costs in microseconds per query, measured with NumPy 2.4 on one x86 core (1M codes);
# only their ratios matter
COST_CALL = 12.0  # fixed overhead of one lookup
COST_PROBE = 0.05  # one flip-mask probe into a one-word (uint64) table
COST_PROBE_WIDE = 0.09  # one probe into a two-word (void) table, n_bits > 64
COST_CANDIDATE = 0.1  # verifying one multi-index candidate (unique, gather, popcount)
COST_SCAN_WORD = 0.0007  # one 64-bit word of one code in a full scan


def estimate_costs(n_codes: int, n_bits: int, radius: int, slices: list[tuple[int, int]],
                   collisions: list[float] | None = None) -> dict:
    """Rough cost (microseconds) of each method for one query.

    Codes are taken as uniform unless ``collisions`` (see :func:`collision_factors`) says how
    much fuller than uniform each multi-index substring's buckets are. ``table`` is ``inf``
    beyond ``MAX_TABLE_PROBES`` flip masks.
    """
    words = n_words(n_bits)
    scan = COST_CALL + n_codes * words * COST_SCAN_WORD
    probes = ball_size(n_bits, radius)
    probe_cost = COST_PROBE_WIDE if words > 1 else COST_PROBE
    table = COST_CALL + min(probes * probe_cost, n_codes * words * COST_SCAN_WORD)
    if probes > MAX_TABLE_PROBES:
        table = math.inf
    mih = COST_CALL
    collisions = collisions or [1.0] * len(slices)
    for (a, b), r, c in zip(slices, mih_radii(radius, len(slices)), collisions):
        if r < 0:
            continue
        bits = 8 * (b - a)
        sub_probes = ball_size(bits, r)
        candidates = n_codes * min(1.0, c * sub_probes / 2.0**bits)
        lookup = min(sub_probes * COST_PROBE, n_codes * COST_SCAN_WORD)
        mih += COST_CALL + lookup + candidates * COST_CANDIDATE
    return {"table": table, "mih": mih, "scan": scan}


def choose_method(n_codes: int, n_bits: int, radius: int, slices: list[tuple[int, int]],
                  collisions: list[float] | None = None) -> str:
    """The method ``auto`` uses: a scan for small databases, else the cheapest estimate."""
    if n_codes < SCAN_BELOW:
        return "scan"
    costs = estimate_costs(n_codes, n_bits, radius, slices, collisions)
    return min(costs, key=lambda method: costs[method])


__all__ = ["MAX_TABLE_PROBES", "SCAN_BELOW", "choose_method", "estimate_costs"]

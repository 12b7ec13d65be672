"""Multi-label relevance in the evaluation: label bitsets, the metrics against brute force on
random label sets, and single-label results unchanged from the implementation before them."""

from __future__ import annotations

import numpy as np
import pytest

from semhash.codes import hamming_matrix, pack_bits
from semhash.eval import labels as lab
from semhash.eval import metrics

# --------------------------------------------------------------------------------------------
# label sets


def random_label_sets(rng: np.random.Generator, n: int, n_labels: int, max_labels: int = 3) -> list[set[int]]:
    """Skewed random label sets: label j drawn with weight 1 / (j + 1), one to max_labels each."""
    weights = 1.0 / np.arange(1, n_labels + 1)
    weights /= weights.sum()
    return [set(rng.choice(n_labels, size=rng.integers(1, max_labels + 1), p=weights).tolist()) for _ in range(n)]


@pytest.mark.parametrize("n_labels", [1, 5, 64, 65, 130])
def test_bitsets_round_trip(n_labels):
    rng = np.random.default_rng(n_labels)
    sets = random_label_sets(rng, 50, n_labels)
    bits = lab.label_bitsets(sets, n_labels)
    assert bits.dtype == np.uint64 and bits.shape == (50, -(-n_labels // 64))
    assert lab.label_sets(bits) == [frozenset(s) for s in sets]
    assert lab.labels_per_document(bits).tolist() == [len(s) for s in sets]
    assert lab.documents_per_label(bits, n_labels) == [sum(j in s for s in sets) for j in range(n_labels)]


def test_labels_from_names_keeps_single_label_corpora_one_dimensional():
    labels, names = lab.labels_from_names([["b"], ["a"], ["b"]])
    assert names == ["a", "b"] and labels.dtype == np.int64 and labels.tolist() == [1, 0, 1]
    labels, names = lab.labels_from_names([["b", "a"], ["a"], ["c", "c"]])
    assert names == ["a", "b", "c"] and lab.is_multi_label(labels)
    assert lab.label_sets(labels) == [frozenset({0, 1}), frozenset({0}), frozenset({2})]
    labels, names = lab.labels_from_names([["x"]], ["y", "x"])
    assert labels.tolist() == [1] and names == ["y", "x"]
    with pytest.raises(ValueError, match="not among the known labels"):
        lab.labels_from_names([["z"]], ["y", "x"])
    with pytest.raises(ValueError, match="outside"):
        lab.label_bitsets([[3]], 3)


def test_relevance_and_counts_against_sets():
    rng = np.random.default_rng(1)
    db_sets, q_sets = random_label_sets(rng, 120, 70), random_label_sets(rng, 30, 70)
    db, q = lab.label_bitsets(db_sets, 70), lab.label_bitsets(q_sets, 70)
    expected = np.array([[bool(a & b) for b in db_sets] for a in q_sets])
    assert (lab.relevance_matrix(q, db) == expected).all()
    ranking = rng.integers(0, 120, (30, 17))
    assert (lab.shares_label(db[ranking], q) == np.take_along_axis(expected, ranking, axis=1)).all()
    assert lab.relevant_counts(db, q, chunk_size=7).tolist() == expected.sum(axis=1).tolist()
    assert lab.chance_precision(db, q) == pytest.approx(expected.mean())


def test_check_labels_refuses_mixed_or_malformed_labels():
    db = lab.label_bitsets([[0], [1]], 2)
    with pytest.raises(ValueError, match="do not match"):
        lab.check_labels(db, np.array([0, 1]), 2, 2)
    with pytest.raises(ValueError, match="uint64"):
        lab.check_labels(db.astype(np.int64), db.astype(np.int64), 2, 2)
    lab.check_labels(db, db, 2, 2)


# --------------------------------------------------------------------------------------------
# the metrics against brute force, multi-label


def brute_force(dist: np.ndarray, db_sets, q_sets, ks, seed):
    """P@k and MAP from the same tie-breaking draws as the metrics, relevance by Python sets."""
    ranking = metrics.rank_with_random_ties(dist, dist.shape[1], np.random.default_rng(seed))
    p_at_k = dict.fromkeys(ks, 0.0)
    aps = []
    for i, order in enumerate(ranking):
        rel = [bool(q_sets[i] & db_sets[j]) for j in order]
        for k in ks:
            p_at_k[k] += sum(rel[:k]) / k / len(q_sets)
        if any(rel):
            hits = np.cumsum(rel)
            aps.append(np.mean([hits[r] / (r + 1) for r in range(len(rel)) if rel[r]]))
    return p_at_k, float(np.mean(aps)) if aps else float("nan")


def test_multi_label_precision_and_map_match_brute_force():
    rng = np.random.default_rng(2)
    n_db, n_q, n_labels = 150, 40, 9
    db_sets, q_sets = random_label_sets(rng, n_db, n_labels), random_label_sets(rng, n_q, n_labels)
    db_bits, q_bits = rng.integers(0, 2, (n_db, 16)), rng.integers(0, 2, (n_q, 16))
    db_codes, q_codes = pack_bits(db_bits), pack_bits(q_bits)
    db, q = lab.label_bitsets(db_sets, n_labels), lab.label_bitsets(q_sets, n_labels)
    ks = [1, 5, 10, 50]
    p_at_k, mean_ap = metrics.hamming_ranking_metrics(db_codes, db, q_codes, q, ks, seed=5, chunk_size=1000)
    dist = metrics._small_int(hamming_matrix(q_codes, db_codes), 16)
    want_p, want_map = brute_force(dist, db_sets, q_sets, ks, seed=5)
    assert p_at_k == pytest.approx(want_p) and mean_ap == pytest.approx(want_map)
    # scores: higher is better, so the brute force ranks the negated scores
    scores = rng.random((n_q, n_db)).astype(np.float32)
    p_at_k, mean_ap = metrics.score_ranking_metrics(scores, db, q, ks, seed=5, chunk_size=1000)
    want_p, want_map = brute_force(-scores, db_sets, q_sets, ks, seed=5)
    assert p_at_k == pytest.approx(want_p) and mean_ap == pytest.approx(want_map)


def test_multi_label_precision_recall_by_radius_matches_brute_force():
    rng = np.random.default_rng(3)
    db_sets, q_sets = random_label_sets(rng, 90, 6), random_label_sets(rng, 25, 6)
    db_codes, q_codes = pack_bits(rng.integers(0, 2, (90, 8))), pack_bits(rng.integers(0, 2, (25, 8)))
    pr = metrics.precision_recall_by_radius(db_codes, lab.label_bitsets(db_sets, 6), q_codes,
                                            lab.label_bitsets(q_sets, 6), chunk_size=4)
    dist = hamming_matrix(q_codes, db_codes)
    for r in range(9):
        precisions, recalls = [], []
        for i, qs in enumerate(q_sets):
            got = [j for j in range(90) if dist[i, j] <= r]
            hits = sum(bool(qs & db_sets[j]) for j in got)
            relevant = sum(bool(qs & s) for s in db_sets)
            if got:
                precisions.append(hits / len(got))
            recalls.append(hits / relevant)
        assert pr["recall"][r] == pytest.approx(np.mean(recalls))
        assert pr["precision"][r] == (pytest.approx(np.mean(precisions)) if precisions else None)


# --------------------------------------------------------------------------------------------
# single-label results as before


def p_at_k_before(dist: np.ndarray, db_labels, q_labels, ks, seed, chunk_size):
    """The precision@k loop as it was before multi-label relevance (kept here as the reference)."""
    rng = np.random.default_rng(seed)
    ks = np.array(sorted(ks))
    totals = np.zeros(ks.size)
    for start in range(0, dist.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        top = metrics.rank_with_random_ties(dist[rows], int(ks[-1]), rng)
        hits = np.cumsum(db_labels[top] == q_labels[rows, None], axis=1)
        totals += hits[:, ks - 1].sum(axis=0) / ks
    return {int(k): float(t / dist.shape[0]) for k, t in zip(ks, totals)}


def test_single_label_results_are_bit_identical_to_before_and_to_one_label_bitsets():
    rng = np.random.default_rng(4)
    n_db, n_q = 400, 90
    db_labels, q_labels = rng.integers(0, 7, n_db), rng.integers(0, 7, n_q)
    db_codes, q_codes = pack_bits(rng.integers(0, 2, (n_db, 24))), pack_bits(rng.integers(0, 2, (n_q, 24)))
    ks = [1, 10, 100, 300]
    got = metrics.precision_at_k(db_codes, db_labels, q_codes, q_labels, ks, seed=9, chunk_size=32)
    dist = metrics._small_int(hamming_matrix(q_codes, db_codes), 24)
    assert got == p_at_k_before(dist, db_labels, q_labels, ks, 9, 32)  # exactly, not approximately
    scores = rng.random((n_q, n_db)).astype(np.float32)
    got_scores = metrics.precision_at_k_scores(scores, db_labels, q_labels, ks, seed=9, chunk_size=32)
    assert got_scores == p_at_k_before(-scores, db_labels, q_labels, ks, 9, 32)
    # the same labels as one-label bitsets give the same numbers, to the last bit
    db_bits, q_bits = lab.as_bitsets(db_labels, 7), lab.as_bitsets(q_labels, 7)
    single = metrics.code_metrics(metrics_bits(db_codes), metrics_bits(q_codes), db_labels, q_labels, ks, seed=9)
    multi = metrics.code_metrics(metrics_bits(db_codes), metrics_bits(q_codes), db_bits, q_bits, ks, seed=9)
    assert single == multi
    assert metrics.score_metrics(scores, db_labels, q_labels, ks, 9) == metrics.score_metrics(scores, db_bits, q_bits, ks, 9)


def metrics_bits(packed: np.ndarray) -> np.ndarray:
    return np.unpackbits(packed, axis=1)


def test_map_of_a_hand_made_ranking():
    # relevant at ranks 1 and 3 of 4: AP = (1/1 + 2/3) / 2
    relevant = np.array([[True, False, True, False], [False, False, False, False]])
    ap = metrics.average_precisions(relevant)
    assert ap[0] == pytest.approx((1 + 2 / 3) / 2) and np.isnan(ap[1])
    db = pack_bits(np.array([[0] * 8, [1] * 8, [0] * 7 + [1], [1] * 7 + [0]], dtype=np.uint8))
    q = pack_bits(np.array([[0] * 8], dtype=np.uint8))
    # distances 0, 8, 1, 7 -> ranking 0, 2, 3, 1; relevant 0 and 3 -> ranks 1 and 3
    p, mean_ap = metrics.hamming_ranking_metrics(db, np.array([0, 1, 2, 0]), q, np.array([0]), [1, 2])
    assert p == {1: 1.0, 2: 0.5} and mean_ap == pytest.approx((1 + 2 / 3) / 2)

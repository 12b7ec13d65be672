"""Evaluation harness: metrics on hand-made codes, the 20NG preprocessing, baselines, CLI."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from conftest import SEED

from semhash import evaluate as ev
from semhash.cli_evaluate import evaluate
from semhash.codes import pack_bits
from semhash.errors import ConfigError, CorpusError

TWENTY_NG = ev.default_20ng_root()
needs_20ng = pytest.mark.skipif(
    not (TWENTY_NG / "train").is_dir(), reason=f"20 Newsgroups not found at {TWENTY_NG} (set $SEMHASH_20NG)"
)


def codes(*rows: str) -> np.ndarray:
    """Packed codes from bit strings like '00000011'."""
    return pack_bits(np.array([[int(c) for c in r] for r in rows], dtype=np.uint8))


# --------------------------------------------------------------------------------------------
# precision@k


def test_precision_at_k_deterministic_ranking():
    db = codes("00000000", "00000001", "11111110", "11111111")
    db_labels = np.array([0, 0, 1, 1])
    q = codes("00000000", "11111111")
    q_labels = np.array([0, 1])
    # distances: query 0 -> 0, 1, 7, 8 ; query 1 -> 8, 7, 1, 0: no ties
    p = ev.precision_at_k(db, db_labels, q, q_labels, ks=[1, 2, 3, 4], seed=123)
    assert p == {1: 1.0, 2: 1.0, 3: pytest.approx(2 / 3), 4: 0.5}
    # wrong labels flip it
    p = ev.precision_at_k(db, db_labels, q, 1 - q_labels, ks=[1, 2, 4])
    assert p == {1: 0.0, 2: 0.0, 4: 0.5}


def test_precision_at_k_chunking_and_seed_do_not_matter_without_ties():
    rng = np.random.default_rng(0)
    db = pack_bits(rng.integers(0, 2, (300, 64)))
    q = pack_bits(rng.integers(0, 2, (37, 64)))
    db_labels, q_labels = rng.integers(0, 3, 300), rng.integers(0, 3, 37)
    # brute force with a stable sort: equal only when there are no ties, so compare P@k on a
    # tie-free subset: use the full ranking's count at k = n_db instead (tie independent)
    full = ev.precision_at_k(db, db_labels, q, q_labels, ks=[300], seed=1, chunk_size=5)[300]
    assert full == pytest.approx(np.mean([np.mean(db_labels == y) for y in q_labels]))
    a = ev.precision_at_k(db, db_labels, q, q_labels, ks=[10, 50], seed=7, chunk_size=500)
    b = ev.precision_at_k(db, db_labels, q, q_labels, ks=[10, 50], seed=7, chunk_size=500)
    assert a == b  # same seed, same answer


def test_precision_at_k_all_ties_equals_label_share_in_expectation():
    n_db, n_q = 200, 3000
    db = np.zeros((n_db, 1), dtype=np.uint8)  # every code identical: everything ties
    db_labels = np.array([0] * 60 + [1] * 140)  # label 0 holds 30 % of the database
    q = np.zeros((n_q, 1), dtype=np.uint8)
    q_labels = np.zeros(n_q, dtype=np.int64)
    p = ev.precision_at_k(db, db_labels, q, q_labels, ks=[1, 10, 100, 200], seed=0)
    assert p[200] == pytest.approx(0.3)  # the whole database: exact
    for k in (1, 10, 100):
        sd = math.sqrt(0.3 * 0.7 / k / n_q)
        assert abs(p[k] - 0.3) < 5 * sd + 1e-9, (k, p[k])
    other = ev.precision_at_k(db, db_labels, q, q_labels, ks=[1], seed=1)
    assert other[1] != p[1]  # a different seed breaks the ties differently


def test_precision_at_k_ties_at_the_cut_are_random():
    # two database codes at distance 0 (one relevant), one relevant code at distance 1
    db = codes("00000000", "00000000", "00000001")
    db_labels = np.array([0, 1, 0])
    q = np.zeros((4000, 1), dtype=np.uint8)
    p = ev.precision_at_k(db, db_labels, q, np.zeros(4000, dtype=np.int64), ks=[1, 2, 3], seed=0)
    assert abs(p[1] - 0.5) < 0.04
    assert p[2] == 0.5 and p[3] == pytest.approx(2 / 3)


def test_precision_at_k_validates_input():
    db = codes("00000000", "11111111")
    with pytest.raises(ValueError, match="exceeds the database size"):
        ev.precision_at_k(db, np.array([0, 1]), db, np.array([0, 1]), ks=[3])
    with pytest.raises(ValueError, match="labels"):
        ev.precision_at_k(db, np.array([0]), db, np.array([0, 1]), ks=[1])
    with pytest.raises(ValueError, match="equal width"):
        ev.precision_at_k(db, np.array([0, 1]), np.zeros((1, 2), dtype=np.uint8), np.array([0]), ks=[1])


def test_precision_at_k_scores():
    scores = np.array([[0.9, 0.1, 0.5, 0.0], [0.0, 0.2, 0.1, 0.3]])
    db_labels = np.array([0, 1, 0, 1])
    p = ev.precision_at_k_scores(scores, db_labels, np.array([0, 1]), ks=[1, 2, 3])
    assert p == {1: 1.0, 2: 1.0, 3: pytest.approx(2 / 3)}
    # all-equal scores: the label share in expectation
    flat = np.zeros((3000, 4))
    p = ev.precision_at_k_scores(flat, db_labels, np.zeros(3000, dtype=int), ks=[1], seed=3)
    assert abs(p[1] - 0.5) < 0.04


def test_precision_recall_by_radius_hand_made():
    db = codes("00000000", "00000001", "00000011", "11111111")
    db_labels = np.array([0, 0, 1, 1])
    q = codes("00000000")
    pr = ev.precision_recall_by_radius(db, db_labels, q, np.array([0]))
    assert pr["radius"] == list(range(9))
    assert pr["precision"][:3] == [1.0, 1.0, pytest.approx(2 / 3)]
    assert pr["recall"][:3] == [0.5, 1.0, 1.0]
    assert pr["precision"][8] == 0.5 and pr["recall"][8] == 1.0
    assert pr["retrieved"][0] == 1 and pr["retrieved"][8] == 4
    # a query whose ball is empty at radius 0 has no precision there
    pr = ev.precision_recall_by_radius(db, db_labels, codes("00001000"), np.array([1]))
    assert pr["precision"][0] is None and pr["answered"][0] == 0.0
    assert pr["recall"][0] == 0.0


def test_precision_recall_curves_are_monotone_in_recall():
    rng = np.random.default_rng(1)
    db, q = pack_bits(rng.integers(0, 2, (200, 16))), pack_bits(rng.integers(0, 2, (30, 16)))
    dl, ql = rng.integers(0, 4, 200), rng.integers(0, 4, 30)
    pr = ev.precision_recall_by_radius(db, dl, q, ql)
    assert np.all(np.diff(pr["recall"]) >= 0) and pr["recall"][-1] == pytest.approx(1.0)
    scores = rng.random((30, 200))
    pr = ev.precision_recall_by_rank(scores, dl, ql, ev.rank_cutoffs(200))
    assert pr["rank"][-1] == 200 and pr["recall"][-1] == pytest.approx(1.0)
    assert np.all(np.diff(pr["recall"]) >= 0)


# --------------------------------------------------------------------------------------------
# preprocessing

MESSAGE = """From: alice@example.com (Alice Headerperson)
Subject: Re: orbital headerword
Organization: Example Org

In article <123@example.com> bob@example.com writes:
> quotedword quotedword about the launch
|  pipedword is quoted too
Rockets rockets orbit launch satellite telescope.
Bob said: saidword here
The telescope orbit is stable.

--
Alice Footerperson footerword
"""


def test_strip_functions_follow_scikit_learn():
    assert "headerword" not in ev.strip_newsgroup_header(MESSAGE)
    assert ev.strip_newsgroup_header(MESSAGE).startswith("In article")
    quoted = ev.strip_newsgroup_quoting(MESSAGE)
    for word in ("quotedword", "pipedword", "saidword", "In article"):
        assert word not in quoted
    assert "Rockets rockets" in quoted
    footer = ev.strip_newsgroup_footer(MESSAGE)
    assert "footerword" not in footer and "stable" in footer
    # no blank or dashed line: the footer cleaner leaves the text alone
    assert ev.strip_newsgroup_footer("one\ntwo\nthree") == "one\ntwo\nthree"
    cleaned = ev.clean_text(MESSAGE, ev.REMOVABLE_PARTS)
    assert cleaned.split() == ["Rockets", "rockets", "orbit", "launch", "satellite", "telescope.", "The", "telescope", "orbit", "is", "stable."]
    assert ev.clean_text(MESSAGE, ()) == MESSAGE
    with pytest.raises(ConfigError):
        ev.clean_text(MESSAGE, ("signatures",))


def test_strip_functions_match_sklearn_exactly():
    sk = pytest.importorskip("sklearn.datasets._twenty_newsgroups")
    samples = [MESSAGE, "no header at all", "a\n\nb\n\n\n", "x\n-----\nsig", "\n\n", "", "> only\n| quotes"]
    for text in samples:
        assert ev.strip_newsgroup_header(text) == sk.strip_newsgroup_header(text)
        assert ev.strip_newsgroup_footer(text) == sk.strip_newsgroup_footer(text)
        assert ev.strip_newsgroup_quoting(text) == sk.strip_newsgroup_quoting(text)


def _message(subject: str, body: str) -> str:
    return (
        f"From: someone@example.com\nSubject: {subject} headerword\n\n"
        f"someone writes:\n> quotedword {body}\n{body}\n\n--\nfooterword signature\n"
    )


def _write_groups(root: Path, groups: dict[str, list[str]]) -> None:
    for group, bodies in groups.items():
        folder = root / group
        folder.mkdir(parents=True, exist_ok=True)
        for i, body in enumerate(bodies):
            (folder / f"{1000 + i}").write_bytes(_message(group, body).encode("latin-1"))


@pytest.fixture
def tiny_newsgroups(tmp_path: Path) -> Path:
    common = "commonword"  # in every document: above max_df
    train = {
        "sci.space": [f"rocket orbit {common} launch", f"rocket orbit {common}", f"rocket {common} rareword",
                      f"orbit launch {common} caf\xe9", "the and of"],  # last one: stop words only
        "rec.autos": [f"engine wheel {common}", f"engine wheel {common} launch", f"engine wheel {common}",
                      f"wheel {common} rareword"],
    }
    test = {
        "sci.space": [f"rocket orbit {common}", "unseenword only"],
        "rec.autos": [f"engine wheel {common}", f"engine {common}"],
    }
    _write_groups(tmp_path / "train", train)
    _write_groups(tmp_path / "test", test)
    return tmp_path


def test_load_and_protocol_features_on_tiny_newsgroups(tiny_newsgroups: Path):
    train, test = ev.load_train_test(tiny_newsgroups, ev.REMOVABLE_PARTS, "latin-1")
    assert train.label_names == ["rec.autos", "sci.space"] == test.label_names
    assert len(train) == 9 and len(test) == 4
    assert list(train.labels).count(1) == 5
    for text in train.texts + test.texts:
        for word in ("headerword", "quotedword", "footerword", "writes", "Subject", "signature"):
            assert word not in text
    assert any("caf\xe9" in t for t in train.texts)  # latin-1 decoded

    feats = ev.protocol_features(train.texts, test.texts)
    vocab = set(feats.vocabulary)
    assert "commonword" not in vocab  # df 8/9 > max_df 0.8
    assert "rareword" not in vocab  # df 2 < min_df 3
    assert {"rocket", "orbit", "engine", "wheel", "launch"} <= vocab  # df >= 3
    assert "the" not in vocab and "and" not in vocab  # stop words
    # the stop-words-only training document and the unseen-word test document are dropped
    assert feats.train_kept.tolist().count(False) == 1 and not feats.train_kept[train.texts.index(
        next(t for t in train.texts if "the and of" in t))]
    assert feats.query_kept.sum() == 3 and feats.X_query.shape == (3, len(vocab))
    assert feats.X_train.shape == (8, len(vocab)) and feats.X_train.dtype == np.float32
    assert np.all(np.diff(feats.X_train.indptr) > 0)

    # weights: log(1 + tf) * log(1 + N / df), N = kept training documents
    j = feats.vocabulary.index("rocket")
    df = 3
    doc = next(i for i, t in enumerate(np.array(train.texts)[feats.train_kept]) if "rocket orbit" in t)
    assert feats.X_train[doc, j] == pytest.approx(math.log(2) * math.log(1 + 8 / df), rel=1e-6)


def test_protocol_features_max_features(tiny_newsgroups: Path):
    train, test = ev.load_train_test(tiny_newsgroups, ev.REMOVABLE_PARTS)
    feats = ev.protocol_features(train.texts, test.texts, ev.FeatureConfig(max_features=2, min_df=1, max_df=1.0))
    assert len(feats.vocabulary) == 2
    assert set(feats.vocabulary) == {"commonword", "wheel"}  # the two most frequent words
    with pytest.raises(ConfigError):
        ev.protocol_features("one string", ["x"])


def test_limit_per_class_and_missing_folders(tiny_newsgroups: Path):
    train, _ = ev.load_train_test(tiny_newsgroups, limit_per_class=2)
    assert len(train) == 4 and train.paths[0].endswith("1000")
    assert ev.has_train_test_layout(tiny_newsgroups)
    with pytest.raises(CorpusError, match="not found"):
        ev.load_labelled_folder(tiny_newsgroups / "nope")
    (tiny_newsgroups / "train" / "empty-group").mkdir()
    (tiny_newsgroups / "train" / "empty-group" / ".hidden").write_text("x")
    with pytest.raises(CorpusError, match="no label folders"):
        ev.load_labelled_folder(tiny_newsgroups / "train" / "empty-group")
    assert not ev.has_train_test_layout(tiny_newsgroups / "train")


def test_splits_are_disjoint_and_fixed():
    val, test = ev.split_queries(11, seed=0)
    assert len(val) == 5 and len(test) == 6
    assert sorted(np.concatenate([val, test]).tolist()) == list(range(11))
    assert [a.tolist() for a in ev.split_queries(11, seed=0)] == [val.tolist(), test.tolist()]
    db, v, t = ev.split_corpus(100, seed=3)
    assert (len(db), len(v), len(t)) == (80, 10, 10)
    assert sorted(np.concatenate([db, v, t]).tolist()) == list(range(100))
    with pytest.raises(ConfigError):
        ev.split_corpus(10, fractions=(0.5, 0.5, 0.0))


# --------------------------------------------------------------------------------------------
# baselines


@pytest.fixture(scope="module")
def clustered():
    """Sparse nonnegative 'documents' from 3 topics of 30 words each, 150 train, 60 query."""
    rng = np.random.default_rng(SEED)

    def make(n):
        labels = rng.integers(0, 3, n)
        X = np.zeros((n, 90), dtype=np.float32)
        for i, y in enumerate(labels):
            words = rng.choice(30, 6, replace=False) + 30 * y
            X[i, words] = rng.random(6) + 0.5
            X[i, rng.choice(90, 2)] += 0.3  # noise words
        return sp.csr_matrix(X), labels

    (Xt, yt), (Xq, yq) = make(150), make(60)
    return Xt, yt, Xq, yq


@pytest.mark.parametrize("name", sorted(ev.BASELINE_CODES))
def test_baselines_return_bits_and_beat_chance(name, clustered):
    Xt, yt, Xq, yq = clustered
    fn = ev.BASELINE_CODES[name]
    a, b = fn(Xt, Xq, 16, 0)
    assert a.shape == (150, 16) and b.shape == (60, 16)
    assert a.dtype == np.uint8 and b.dtype == np.uint8
    assert set(np.unique(a)) <= {0, 1}
    a2, b2 = fn(Xt, Xq, 16, 0)
    assert np.array_equal(a, a2) and np.array_equal(b, b2)  # seeded
    p = ev.precision_at_k(pack_bits(a), yt, pack_bits(b), yq, ks=[10])[10]
    floor = 0.4 if name == "lsh" else 0.6  # chance is about 1/3
    assert p > floor, p


def test_lsi_median_bits_are_balanced_and_itq_rotation_orthogonal(clustered):
    Xt, _, Xq, _ = clustered
    a, _ = ev.lsi_median_codes(Xt, Xq, 8)
    assert np.allclose(a.mean(axis=0), 0.5, atol=0.02)
    V, _ = ev.pca_projection(Xt, Xq, 8)
    assert np.allclose(V.mean(axis=0), 0, atol=1e-8)  # centred
    R = ev.itq_rotation(V, n_iter=20)
    assert np.allclose(R @ R.T, np.eye(8), atol=1e-8)
    modes = ev.spectral_hashing_modes(np.zeros(3), np.array([4.0, 2.0, 1.0]), 5)
    assert modes.shape == (5, 3) and np.all((modes > 0).sum(axis=1) == 1)
    # the smoothest modes lie along the widest direction first: (pi m / R)^2 ascending
    eig = ((modes * np.pi / np.array([4.0, 2.0, 1.0])) ** 2).sum(axis=1)
    assert np.all(np.diff(eig) >= 0) and modes[0].tolist() == [1, 0, 0]
    with pytest.raises(ConfigError):
        ev.itq_codes(Xt, Xq, 128)  # more bits than features allow


def test_pca_projection_matches_dense_pca(clustered):
    Xt, _, Xq, _ = clustered
    from sklearn.decomposition import PCA

    V, Vq = ev.pca_projection(Xt, Xq, 5)
    ref = PCA(5).fit(Xt.toarray())
    W = ref.transform(Xt.toarray())
    # leading components equal up to sign; the whole projection captures PCA's variance
    for j in range(2):
        assert abs(np.corrcoef(V[:, j], W[:, j])[0, 1]) > 0.999
    assert V.var(axis=0).sum() == pytest.approx(W.var(axis=0).sum(), rel=0.01)
    assert np.allclose(Vq.mean(axis=0), ref.transform(Xq.toarray()).mean(axis=0) * np.sign(
        [np.corrcoef(V[:, j], W[:, j])[0, 1] for j in range(5)]), atol=0.05)


def test_reference_scores(clustered):
    Xt, yt, Xq, yq = clustered
    s = ev.tfidf_cosine_scores(Xt, Xq)
    assert s.shape == (60, 150) and s.dtype == np.float32
    assert s.max() <= 1.0 + 1e-5
    assert ev.precision_at_k_scores(s, yt, yq, ks=[10])[10] > 0.9
    pytest.importorskip("bm25s")
    texts = ["rocket orbit launch", "engine wheel car", "rocket launch pad", "wheel tyre car"]
    b = ev.bm25_scores(texts, ["rocket", "car wheel", "nothingknown"])
    assert b.shape == (3, 4)
    assert b[0].argmax() in (0, 2) and b[0, 1] == 0
    assert b[1].argmax() in (1, 3)
    assert np.all(b[2] == 0)


# --------------------------------------------------------------------------------------------
# orchestration and CLI


def _generic_corpus(root: Path, n_per_label: int = 30) -> Path:
    rng = np.random.default_rng(SEED)
    topics = {
        "space": ["rocket", "orbit", "launch", "nasa", "moon", "shuttle", "satellite", "astronaut", "telescope", "planet"],
        "cars": ["engine", "wheel", "brake", "tyre", "gearbox", "clutch", "sedan", "diesel", "piston", "exhaust"],
        "food": ["pasta", "sauce", "garlic", "oven", "recipe", "bake", "flour", "butter", "basil", "tomato"],
    }
    for label, words in topics.items():
        (root / label).mkdir(parents=True)
        for i in range(n_per_label):
            body = " ".join(rng.choice(words, 12))
            (root / label / f"doc{i:03d}.txt").write_text(body, encoding="utf-8")
    return root


def test_run_evaluation_on_generic_folder(tmp_path: Path):
    pytest.importorskip("matplotlib")
    root = _generic_corpus(tmp_path / "corpus")
    config = ev.EvalConfig(root=root, name="toy", methods=("lsh", "lsi", "itq", "sh", "tfidf"), bits=(8,), ks=(1, 5, 100),
                            seed=SEED)
    results = ev.run_evaluation(config)
    ds = results["dataset"]
    assert ds["n_database"] == 72 and ds["n_queries"] == 9 and ds["n_labels"] == 3
    assert results["quoted"] is None  # only the 20ng preset quotes papers
    tfidf = results["methods"]["tfidf"]["runs"][0]
    assert tfidf["n_bits"] is None and tfidf["p_at_k"]["5"] > 0.9
    assert set(tfidf["p_at_k"]) == {"1", "5"}  # k above the database size is left out
    assert results["methods"]["itq"]["runs"][0]["p_at_k"]["5"] > 0.8
    written = ev.write_report(results, tmp_path / "report")
    names = {p.name for p in written}
    assert names == {"results.json", "report.md", *ev.plot_files(results)}
    assert json.loads((tmp_path / "report" / "results.json").read_text())["config"]["name"] == "toy"
    # the validation split is a different set of queries
    val = ev.run_evaluation(ev.EvalConfig(root=root, methods=("tfidf",), split="validation"))
    assert val["dataset"]["split"] == "validation"


def test_eval_config_validation(tmp_path: Path):
    with pytest.raises(ConfigError, match="unknown method"):
        ev.EvalConfig(root=tmp_path, methods=("nope",)).validate()
    with pytest.raises(ConfigError, match="multiples of 8"):
        ev.EvalConfig(root=tmp_path, bits=(12,)).validate()
    with pytest.raises(ConfigError, match="split"):
        ev.EvalConfig(root=tmp_path, split="train").validate()
    preset = ev.EvalConfig.preset_20ng(tmp_path, bits=(32,))
    assert preset.remove == ev.REMOVABLE_PARTS and preset.encoding == "latin-1" and preset.bits == (32,)


def test_eval_config_is_frozen_and_validated_on_construction(tmp_path: Path):
    config = ev.EvalConfig(root=tmp_path, bits=(16,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.bits = (12,)  # type: ignore[misc]
    with pytest.raises(ConfigError, match="multiples of 8"):
        ev.EvalConfig(root=tmp_path, bits=(12,))
    with pytest.raises(ConfigError, match="unknown method"):
        dataclasses.replace(config, methods=("lsh", "magic"))
    assert dataclasses.replace(config, bits=(256,)).bits == (256,)  # baselines make codes past 128 bits


def test_one_registry_names_every_method():
    assert ev.ALL_METHODS == ("semhash", "lsh", "lsi", "itq", "sh", "sth", "tfidf", "bm25")
    assert tuple(ev.METHODS) == ev.ALL_METHODS  # the hashing methods first, then the references
    assert {m: ev.METHODS[m].kind for m in ev.REFERENCE_METHODS} == {"tfidf": "reference", "bm25": "reference"}
    assert all(ev.METHODS[m].kind == "hashing" for m in ev.HASHING_METHODS)
    assert ev.METHOD_LABELS["itq"] == "LSI + ITQ" and ev.METHOD_MODULES == {"bm25": ("bm25s",)}
    assert set(ev.BASELINE_PROJECTIONS) == {"lsi", "itq", "sh", "sth"}
    assert ev.METHODS["sh"].lengths((16, 32)) == [16, 32] and ev.METHODS["tfidf"].lengths((16, 32)) == [None]
    with pytest.raises(ConfigError, match="no projection stage"):
        ev.baseline_bits_from_projection("lsh", np.zeros((4, 8)), np.zeros((2, 8)), 8)


def test_projection_runs_equal_the_one_length_baselines(clustered):
    """A run's bits from the leading columns of a projection shared by every length are the
    baseline's own bits at that length (ITQ and SH from PCA, LSI from its truncated SVD)."""
    Xt, _, Xq, _ = clustered
    Y, Yq = ev.pca_projection(Xt, Xq, 16, 0)
    for name, direct in (("itq", ev.itq_codes), ("sh", ev.spectral_hashing_codes)):
        shared = ev.baseline_bits_from_projection(name, Y, Yq, 16, 0)
        assert all(np.array_equal(a, b) for a, b in zip(shared, direct(Xt, Xq, 16, 0)))


def test_self_taught_hashing_bits(clustered):
    """STH: database bits cut each eigenmap direction at its median (balanced), query bits are
    the SVMs' predictions, and a shorter code is the leading bits of a longer one."""
    from semhash.eval.baselines import STH_NEIGHBOURS, sth_codes, sth_projection

    Xt, _, Xq, _ = clustered
    Y, Yq = sth_projection(Xt, Xq, 16, 0)
    assert Y.shape == (150, 16) and Yq.shape == (60, 16) and STH_NEIGHBOURS < 150
    db, q = ev.baseline_bits_from_projection("sth", Y, Yq, 8, 0)
    assert np.allclose(db.mean(axis=0), 0.5, atol=0.02)
    assert all(np.array_equal(a, b) for a, b in zip((db, q), sth_codes(Xt, Xq, 8, 0)))


def test_spectral_embedding_weights_default_to_ones():
    """Training's graph teacher calls spectral_embedding without weights: unit weights, as before."""
    from semhash.train.graph import nearest_neighbours, spectral_embedding

    X = sp.random(300, 40, density=0.2, random_state=SEED, format="csr")
    nbrs = nearest_neighbours(X, 10)
    plain = spectral_embedding(nbrs, 6, 0)
    assert np.array_equal(plain, spectral_embedding(nbrs, 6, 0, weights=np.ones(nbrs.shape)))
    assert not np.allclose(np.abs(plain), np.abs(spectral_embedding(nbrs, 6, 0, weights=np.random.default_rng(0).random(nbrs.shape))))


def test_protocol_weighting_is_the_products():
    """The protocol weights in float64 with semhash.vectorize's formula; the product's float32
    weighting of the same counts agrees to float32 precision."""
    from semhash.vectorize import idf_weights, weight_counts

    counts = sp.csr_matrix(np.array([[1, 0, 3], [0, 2, 1], [4, 1, 0]], dtype=np.float64))
    df = np.array([2, 2, 2])
    protocol = ev.tfidf_weights(counts, df, 3)
    product = weight_counts(counts, idf_weights(df, 3))
    assert protocol.dtype == np.float32 and product.dtype == np.float32
    np.testing.assert_allclose(protocol.toarray(), product.toarray(), rtol=1e-6)
    assert protocol[0, 2] == pytest.approx(math.log1p(3) * math.log1p(3 / 2), rel=1e-6)


def test_references_listed_first_still_run_after_the_hashing_methods(tmp_path: Path):
    root = _generic_corpus(tmp_path / "corpus")
    results = ev.run_evaluation(ev.EvalConfig(root=root, methods=("tfidf", "lsh"), bits=(8,), ks=(1, 5)))
    assert list(results["methods"]) == ["tfidf", "lsh"]  # the order asked for
    assert results["methods"]["lsh"]["setup_seconds"] == 0.0  # no projection shared by lengths
    assert [r["n_bits"] for r in results["methods"]["lsh"]["runs"]] == [8]


def test_default_20ng_root_honours_env(monkeypatch, tmp_path: Path):
    monkeypatch.setenv(ev.ENV_20NG, str(tmp_path))
    assert ev.default_20ng_root() == tmp_path
    monkeypatch.delenv(ev.ENV_20NG)
    assert ev.default_20ng_root().parts[-3:] == ("shared", "datasets", "20news-bydate")


def test_cli_help_has_example():
    result = CliRunner().invoke(evaluate, ["--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "--preset" in result.output and "--limit-per-class" in result.output


def test_cli_errors(tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(evaluate, [str(tmp_path / "missing"), "--quiet"])
    assert result.exit_code == 1
    assert "Error: corpus folder not found" in result.output
    result = runner.invoke(evaluate, ["--quiet"])
    assert result.exit_code == 2 and "give a CORPUS folder or file, or --preset" in result.output
    result = runner.invoke(evaluate, [str(tmp_path), "--bits", "16,x"])
    assert result.exit_code == 2 and "comma-separated integers" in result.output
    result = runner.invoke(evaluate, [str(tmp_path), "--methods", "lsh,magic"])
    assert result.exit_code == 2 and "unknown magic" in result.output
    result = runner.invoke(evaluate, [str(tmp_path), "--bits", "12", "-q"])
    assert result.exit_code == 1 and "multiples of 8" in result.output


def test_cli_generic_folder(tmp_path: Path):
    pytest.importorskip("matplotlib")
    root = _generic_corpus(tmp_path / "corpus")
    out = tmp_path / "rep"
    result = CliRunner().invoke(
        evaluate, [str(root), "--bits", "8,16", "--methods", "lsh,itq,tfidf", "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "LSI + ITQ" in result.output and f"Report written to {out}" in result.output
    assert (out / "precision_at_k_16bits.png").is_file() and (out / "precision_recall_8bits.png").is_file()


@needs_20ng
@pytest.mark.slow
def test_cli_20ng_slice_end_to_end(tmp_path: Path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("bm25s")
    out = tmp_path / "report"
    args = ["--preset", "20ng", "--limit-per-class", "50", "--bits", "16,32", "--seed", str(SEED),
            "--methods", "lsh,lsi,itq,sh,tfidf,bm25", "--out", str(out), "--quiet"]
    result = CliRunner().invoke(evaluate, args)
    assert result.exit_code == 0, result.output
    assert "AMMI (QUOTED, not measured)" in result.output
    results = json.loads((out / "results.json").read_text())
    assert {p.name for p in out.iterdir()} == {"results.json", "report.md", *ev.plot_files(results)}
    assert set(ev.plot_files(results)) == {
        "precision_at_k_16bits.png", "precision_at_k_32bits.png",
        "precision_recall_16bits.png", "precision_recall_32bits.png",
    }
    ds = results["dataset"]
    assert ds["n_labels"] == 20 and ds["split"] == "test"
    assert 900 < ds["n_database"] <= 1000 and 400 < ds["n_queries"] <= 500
    chance = ds["chance_precision"]
    assert abs(chance - 0.05) < 0.005

    def p10(method, bits=None):
        runs = {r["n_bits"]: r for r in results["methods"][method]["runs"]}
        return runs[bits]["p_at_k"]["10"]

    assert p10("itq", 32) > p10("lsh", 32) + 0.1  # LSH is far below LSI + ITQ at 32 bits
    assert p10("lsi", 32) > p10("lsh", 32) + 0.1
    assert p10("sh", 32) > p10("lsh", 32)
    assert p10("lsh", 32) < 2 * chance  # LSH on sparse TF-IDF is near chance
    assert p10("tfidf") > 3 * chance and p10("bm25") > 3 * chance
    report = (out / "report.md").read_text()
    assert "QUOTED" in report and "![precision_at_k_32bits.png]" in report


def _model_api_available() -> bool:
    try:
        import semhash.codes as codes_module
        import semhash.model  # noqa: F401
    except ImportError:
        return False
    return hasattr(codes_module, "encode_bits")


@pytest.mark.slow
def test_semhash_method_on_generic_folder(tmp_path: Path):
    pytest.importorskip("semhash.model")
    if not _model_api_available():
        pytest.skip("semhash.codes.encode_bits not available yet")
    root = _generic_corpus(tmp_path / "corpus")
    config = ev.EvalConfig(
        root=root, methods=("semhash", "lsh"), bits=(8,), ks=(1, 5), model=ev.ModelOptions(pretrain="none", epochs=2)
    )
    results = ev.run_evaluation(config)
    run = results["methods"]["semhash"]["runs"][0]
    assert run["n_bits"] == 8 and 0.0 <= run["p_at_k"]["5"] <= 1.0


def test_evaluate_is_registered_on_the_main_cli(tmp_path: Path):
    cli_module = pytest.importorskip("semhash.cli")
    result = CliRunner().invoke(cli_module.cli, ["evaluate", "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_report_records_a_reproducible_command(tmp_path: Path):
    pytest.importorskip("matplotlib")
    root = _generic_corpus(tmp_path / "corpus")
    out = tmp_path / "rep"
    result = CliRunner().invoke(evaluate, [str(root), "--bits", "8", "--methods", "tfidf", "--out", str(out), "-q", "--no-plots"])
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    assert f"semhash evaluate {root} --bits 8 --methods tfidf --split test --seed 0 --encoding utf-8" in report
    assert not list(out.glob("*.png"))


def test_variant_option_reaches_the_model_config(tmp_path: Path, monkeypatch):
    import semhash.train.trainer as model_module

    seen = {}
    root = _generic_corpus(tmp_path / "corpus", n_per_label=12)

    def fake_train_encoder(X, cfg, progress=False):
        seen["cfg"] = cfg
        raise ConfigError("stop here")

    monkeypatch.setattr(model_module, "train_encoder", fake_train_encoder)
    result = CliRunner().invoke(evaluate, [str(root), "--bits", "8", "--methods", "semhash", "--variant", "sparse",
                                           "--pretrain", "none", "--epochs", "2", "-q", "--no-plots",
                                           "--out", str(tmp_path / "rep")])
    assert result.exit_code == 1 and "stop here" in result.output
    assert (seen["cfg"].variant, seen["cfg"].pretrain, seen["cfg"].epochs) == ("sparse", "none", 2)
    bad = CliRunner().invoke(evaluate, [str(root), "--variant", "ladder"])
    assert bad.exit_code == 2 and "ladder" in bad.output
    config = ev.EvalConfig(root=root, model=ev.ModelOptions(variant="contractive"))
    from semhash.cli_evaluate import _command_line

    assert "--variant contractive" in _command_line(root, None, config)

"""The Keras autoencoder: pretraining, fine-tuning, export to NumPy, determinism."""

import random
from dataclasses import asdict

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import SEED, TOPICS, topical_text

from semhash.codes import EncoderWeights, encode_bits, encode_probs, pack_bits, unpack_bits
from semhash.errors import ConfigError
from semhash.model import ModelConfig, train


def topical_matrix(n_per_topic=20, seed=SEED):
    from semhash.vectorize import Vectorizer, VectorizerConfig

    rng = random.Random(seed)
    texts, labels = [], []
    for t in TOPICS:
        for _ in range(n_per_topic):
            texts.append(topical_text(t, rng))
            labels.append(t)
    vec = Vectorizer(VectorizerConfig(min_df=1)).fit(texts)
    return vec.transform(texts), np.array(labels)


X, LABELS = topical_matrix()
TINY = dict(n_bits=8, hidden=(32, 16), epochs=4, pretrain_epochs=4, batch_size=16, seed=3 + SEED)


@pytest.mark.slow
@pytest.mark.parametrize("pretrain", ["rbm", "autoencoder"])
def test_pretraining_lowers_its_own_loss(pretrain):
    result = train(X, ModelConfig(pretrain=pretrain, **TINY))
    assert len(result.pretrain_losses) == 3  # two hidden layers and the code layer
    for layer_losses in result.pretrain_losses:
        assert layer_losses[-1] < layer_losses[0]


@pytest.mark.slow
def test_finetuning_lowers_reconstruction_loss():
    result = train(X, ModelConfig(pretrain="none", **{**TINY, "epochs": 12}))
    assert result.pretrain_losses == []
    assert result.finetune_losses[-1] < result.finetune_losses[0]


@pytest.mark.slow
def test_numpy_encoder_equals_keras_encoder():
    result = train(X, ModelConfig(pretrain="rbm", **TINY))
    encoder = result.keras_model.get_layer("encoder")
    from semhash.codes import length_normalize

    keras_probs = 1 / (1 + np.exp(-np.asarray(encoder(length_normalize(X, 300.0).toarray()))))
    numpy_probs = encode_probs(result.encoder, X)
    np.testing.assert_allclose(numpy_probs, keras_probs, atol=1e-5)
    # a document gets the same bits whatever batch it is encoded in
    one_by_one = np.vstack([encode_bits(result.encoder, X[i]) for i in range(X.shape[0])])
    np.testing.assert_array_equal(one_by_one, encode_bits(result.encoder, X))
    # and on dense input
    np.testing.assert_allclose(encode_probs(result.encoder, X.toarray()), numpy_probs, atol=1e-6)


@pytest.mark.slow
def test_same_seed_same_codes_and_other_seed_differs():
    a = train(X, ModelConfig(pretrain="rbm", **TINY)).encoder
    b = train(X, ModelConfig(pretrain="rbm", **TINY)).encoder
    c = train(X, ModelConfig(pretrain="rbm", **{**TINY, "seed": TINY["seed"] + 1})).encoder
    codes = [encode_bits(e, X) for e in (a, b, c)]
    assert (codes[0] == codes[1]).all()
    assert not np.array_equal(encode_probs(a, X), encode_probs(c, X))


@pytest.mark.slow
def test_median_thresholds_balance_bits():
    enc = train(X, ModelConfig(pretrain="rbm", **TINY)).encoder
    bits = encode_bits(enc, X)
    balance = bits.mean(axis=0)
    assert ((balance > 0.2) & (balance < 0.8)).mean() >= 0.75


@pytest.mark.slow
def test_keras_model_round_trips(tmp_path):
    import keras

    result = train(X, ModelConfig(pretrain="none", **TINY))
    result.save_keras(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(X.toarray(), verbose=0), result.keras_model.predict(X.toarray(), verbose=0),
                               atol=1e-5)
    assert again.get_layer("binary_code").get_config()["mode"] == "ste"


@pytest.mark.slow
def test_encoder_weights_npz_round_trip(tmp_path):
    enc = train(X, ModelConfig(pretrain="none", **TINY)).encoder
    enc.save(tmp_path / "enc.npz")
    again = EncoderWeights.load(tmp_path / "enc.npz")
    np.testing.assert_array_equal(encode_probs(again, X), encode_probs(enc, X))
    np.testing.assert_array_equal(again.thresholds, enc.thresholds)


def test_bit_packing_round_trips():
    rng = np.random.default_rng(0)
    for n_bits in (8, 16, 24, 64, 128):
        bits = rng.integers(0, 2, size=(7, n_bits)).astype(np.uint8)
        packed = pack_bits(bits)
        assert packed.shape == (7, n_bits // 8)
        assert (unpack_bits(packed, n_bits) == bits).all()
    # bit 0 is the most significant bit of byte 0
    assert pack_bits(np.array([[1, 0, 0, 0, 0, 0, 0, 0]]))[0, 0] == 0x80


@pytest.mark.parametrize("bad, message", [
    (dict(n_bits=12), "multiple of 8"),
    (dict(n_bits=256), "multiple of 8"),
    (dict(pretrain="pca"), "pretrain must be one of"),
    (dict(code_mode="gumbel"), "code_mode"),
])
def test_bad_config_is_a_clear_error(bad, message):
    with pytest.raises(ConfigError, match=message):
        train(X, ModelConfig(**{**TINY, **bad}))


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ConfigError, match="NaN"):
        Y = X.copy()
        Y.data[0] = np.nan
        train(Y, ModelConfig(**TINY))
    with pytest.raises(ConfigError, match="at least 2 documents"):
        train(X[:1], ModelConfig(**TINY))
    with pytest.raises(ConfigError, match="nonnegative"):
        train(-X, ModelConfig(**TINY))


@pytest.mark.slow
def test_codes_never_nan_on_identical_documents():
    Y = sp.csr_matrix(np.tile(X[0].toarray(), (10, 1)))
    enc = train(Y, ModelConfig(pretrain="rbm", **TINY)).encoder
    probs = encode_probs(enc, Y)
    assert np.isfinite(probs).all()


@pytest.mark.slow
def test_semantic_hasher_follows_sklearn_conventions():
    from semhash import SemanticHasher
    from semhash.errors import NotFittedError
    from semhash.model import ModelConfig

    rng = random.Random(1)
    texts = [topical_text(t, rng) for t in TOPICS for _ in range(15)]
    hasher = SemanticHasher(model=ModelConfig(**TINY))
    assert not hasattr(hasher, "encoder_")
    with pytest.raises(NotFittedError):
        hasher.encode(["x"])
    with pytest.raises(ConfigError, match="single string"):
        hasher.fit("one string")
    assert hasher.fit(texts) is hasher
    packed = hasher.encode(texts[:3])
    assert packed.shape == (3, 1) and packed.dtype == np.uint8
    assert (unpack_bits(packed, 8) == hasher.transform(texts[:3])).all()


@pytest.mark.slow
def test_semantic_hasher_passes_code_targets_row_for_row():
    from semhash import SemanticHasher

    rng = random.Random(2)
    topics = list(TOPICS)[:2]
    texts = [topical_text(t, rng) for t in topics for _ in range(20)]
    texts.insert(5, "qqqzx vvvwk")  # no word of the vocabulary: dropped, with its target row
    codeword = {topics[0]: [1, 0] * 4, topics[1]: [0, 1] * 4}
    targets = [codeword[topics[0]]] * 5 + [[1] * 8] + [codeword[topics[0]]] * 15 + [codeword[topics[1]]] * 20
    cfg = ModelConfig(**dict(TINY, pretrain="none", epochs=60, word_dropout=0.0, threshold="half"))
    with pytest.raises(ConfigError, match="one row per text"):
        SemanticHasher(model=cfg).fit(texts, code_targets=targets[:-1])
    hasher = SemanticHasher(model=cfg).fit(texts, code_targets=targets)
    kept = [i for i in range(len(texts)) if i != 5]
    agreement = (hasher.transform([texts[i] for i in kept]) == np.array(targets)[kept]).mean()
    assert agreement > 0.95


# --------------------------------------------------------------------------- regularised variants

VARIANT_LAYER = {"denoising": ("input_corruption", "mask_rate"), "sparse": ("sparsity", "target"),
                 "contractive": ("code_logits", "contractive_weight"), "variational": ("latent_sample", "kl_weight")}


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["denoising", "sparse", "contractive", "variational"])
def test_variant_trains_exports_and_round_trips(variant, tmp_path):
    import keras

    from semhash.codes import encode_logits, length_normalize
    from semhash.model import load_keras_model

    cfg = ModelConfig(variant=variant, pretrain="autoencoder", **{**TINY, "epochs": 8, "pretrain_epochs": 2})
    result = train(X, cfg)
    assert result.finetune_losses[-1] < result.finetune_losses[0]
    # the encoder's deterministic path (the means for the VAE) is what NumPy computes
    out = result.keras_model.get_layer("encoder")(length_normalize(X, 300.0).toarray())
    if variant == "variational":
        assert len(out) == 2  # mean and log-variance; only the mean is exported
        out = out[0]
    np.testing.assert_allclose(encode_logits(result.encoder, X), np.asarray(out), atol=1e-5)
    assert len(result.encoder.kernels) == 3 and result.encoder.n_bits == 8
    bits = encode_bits(result.encoder, X)
    assert np.isfinite(encode_probs(result.encoder, X)).all()
    balance = bits.mean(axis=0)
    assert ((balance > 0.2) & (balance < 0.8)).mean() >= 0.75
    # the training-only penalty is added while training, never at inference
    model = result.keras_model
    x = length_normalize(X[:8], 300.0).toarray()
    model(x, training=True)
    if variant != "denoising":
        assert len(model.losses) == 1 and float(model.losses[0]) > 0
    # model.keras round-trips with the variant's layer and its settings
    result.save_keras(tmp_path / "m.keras")
    again = load_keras_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(X.toarray(), verbose=0), model.predict(X.toarray(), verbose=0), atol=1e-5)
    name, key = VARIANT_LAYER[variant]
    layer = (again.get_layer("encoder") if variant == "contractive" else again).get_layer(name)
    assert keras.saving.get_registered_name(type(layer)).startswith("semhash>")
    assert layer.get_config()[key] == pytest.approx(getattr(cfg, key if key != "target" else "sparsity_target"))


@pytest.mark.slow
def test_plain_variant_leaves_the_model_unchanged():
    assert ModelConfig().variant == "denoising"  # the default, chosen on the validation half
    cfg = ModelConfig(pretrain="none", variant="plain", **TINY)
    result = train(X, cfg)
    names = {l.name for l in result.keras_model.layers}
    assert names == {"words", "encoder", "binary_code", "decoder"}
    assert [type(l).__name__ for l in result.keras_model.get_layer("encoder").layers[1:]] == ["Dense"] * 3
    # an old manifest without the field reads as the plain model
    assert ModelConfig.from_dict({k: v for k, v in cfg.to_dict().items() if k != "variant"}).variant == "plain"


@pytest.mark.parametrize("bad, message", [
    (dict(variant="ladder"), "variant must be one of plain, denoising, sparse, contractive, variational"),
    (dict(variant="denoising", mask_rate=1.0), "mask_rate"),
    (dict(variant="sparse", sparsity_target=0.0), "sparsity_target"),
    (dict(variant="variational", kl_weight=-1.0), "kl_weight"),
])
def test_bad_variant_config_is_a_clear_error(bad, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**{**TINY, **bad}).validate()


def test_nearest_neighbours_are_the_exact_cosine_top_k():
    from semhash.model import nearest_neighbours
    from semhash.vectorize import l2_normalize

    nbrs = nearest_neighbours(X, 5, chunk=7)  # several chunks
    N = l2_normalize(X).toarray()
    S = N @ N.T
    np.fill_diagonal(S, -np.inf)
    for i in range(X.shape[0]):
        assert i not in nbrs[i]
        # the k-th best similarity bounds every chosen neighbour (ties may pick either)
        kth = np.sort(S[i])[-5]
        assert (S[i, nbrs[i]] >= kth - 1e-6).all()


def test_neighbour_targets_blend_word_distributions():
    from semhash.model import nearest_neighbours, neighbour_targets, row_distributions

    T = neighbour_targets(X, 4, 0.5).toarray()
    np.testing.assert_allclose(T.sum(axis=1), 1.0, atol=1e-5)
    D = row_distributions(X)
    nbrs = nearest_neighbours(X, 4)
    np.testing.assert_allclose(T, 0.5 * D + 0.5 * D[nbrs].mean(axis=1), atol=1e-6)
    assert (neighbour_targets(X, 4, 0.0) != X).nnz == 0  # weight 0: the documents themselves
    # neighbours share the topic far more often than chance (1/3) on the topical corpus
    assert (LABELS[nbrs] == LABELS[:, None]).mean() > 0.8


@pytest.mark.slow
def test_training_with_neighbour_targets():
    result = train(X, ModelConfig(pretrain="rbm", neighbours=5, **TINY))
    assert result.finetune_losses[-1] < result.finetune_losses[0]
    assert np.isfinite(encode_probs(result.encoder, X)).all()
    with pytest.raises(ConfigError, match="neighbour_weight"):
        train(X, ModelConfig(neighbours=5, neighbour_weight=1.5, **TINY))


def test_nearest_neighbours_come_nearest_first():
    from semhash.model import nearest_neighbours
    from semhash.vectorize import l2_normalize

    nbrs = nearest_neighbours(X, 6, chunk=9)
    N = l2_normalize(X).toarray()
    sims = np.take_along_axis(N @ N.T, nbrs, axis=1)
    assert (np.diff(sims, axis=1) <= 1e-6).all()  # a prefix of the list is the k nearest for a smaller k


def teacher_bits(teacher, X, n_bits, nbrs, seed=0):
    from semhash.model import graph_code_targets

    return graph_code_targets(X, nbrs, ModelConfig(n_bits=n_bits, graph_teacher=teacher, graph_steps=2,
                                                   graph_alpha=0.8, seed=seed))


@pytest.mark.parametrize("teacher", ["spectral", "smoothed"])
def test_graph_code_targets_are_balanced_deterministic_and_follow_the_graph(teacher):
    from semhash.model import nearest_neighbours

    nbrs = nearest_neighbours(X, 10)
    bits = teacher_bits(teacher, X, 8, nbrs)
    assert bits.shape == (X.shape[0], 8) and set(np.unique(bits)) <= {0.0, 1.0}
    assert np.array_equal(bits, teacher_bits(teacher, X, 8, nbrs))
    assert (bits.mean(axis=0) > 0.2).all() and (bits.mean(axis=0) < 0.8).all()  # ITQ: no bit near constant
    dist = (bits[:, None, :] != bits[None, :, :]).sum(axis=2)
    same = LABELS[:, None] == LABELS[None, :]
    off_diag = ~np.eye(len(LABELS), dtype=bool)
    # documents of one topic get far closer target codes than documents of different topics
    assert dist[same & off_diag].mean() < 0.5 * dist[~same].mean()
    # more bits than the corpus has directions: the bits that exist are repeated, never invented
    small = teacher_bits(teacher, X[:4], 16, nearest_neighbours(X[:4], 2))
    assert small.shape == (4, 16) and np.isfinite(small).all()
    # long codes: a longer code extends the shorter one rather than reshuffling it
    long = teacher_bits(teacher, X, 32, nbrs)
    if teacher == "spectral":
        assert np.array_equal(long[:, :8], bits)


def clustered_neighbours(n_clusters, per_cluster, k, seed=0):
    """k-NN lists of points drawn around ``n_clusters`` well separated centres."""
    from semhash.model import nearest_neighbours

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, 30)) * 5
    points = np.repeat(centres, per_cluster, axis=0) + rng.normal(size=(n_clusters * per_cluster, 30))
    return nearest_neighbours(np.abs(points), k), np.repeat(np.arange(n_clusters), per_cluster)


@pytest.mark.parametrize("per_cluster", [60, 300])  # 240 points: dense eigh; 1,200: sparse ARPACK
def test_spectral_embedding_solves_the_graph_eigenproblem_and_separates_clusters(per_cluster):
    from semhash.model import spectral_embedding

    nbrs, labels = clustered_neighbours(4, per_cluster, 10)
    n = len(labels)
    E = spectral_embedding(nbrs, 3, seed=0)
    assert E.shape == (n, 3)
    assert np.array_equal(E, spectral_embedding(nbrs, 3, seed=0))  # fixed start vector: deterministic
    W = sp.csr_matrix((np.ones(nbrs.size), (np.repeat(np.arange(n), nbrs.shape[1]), nbrs.ravel())), shape=(n, n))
    W = W.maximum(W.T).toarray()
    d = W.sum(axis=1)
    M = W / np.sqrt(np.outer(d, d))
    vals = np.linalg.eigvalsh(M)[::-1]
    U = E * np.sqrt(d)[:, None]  # back to eigenvectors of the normalized adjacency
    U /= np.linalg.norm(U, axis=0)
    rayleigh = np.einsum("ij,ij->j", U, M @ U)
    assert np.allclose(M @ U, U * rayleigh, atol=1e-6)  # eigenvectors...
    assert np.allclose(rayleigh, vals[1:4], atol=1e-6)  # ...of the 2nd-4th largest eigenvalues
    # four clusters, three non-trivial directions: the cluster means are far apart, the points close to theirs
    means = np.stack([E[labels == c].mean(axis=0) for c in range(4)])
    spread = max(np.linalg.norm(E[labels == c] - means[c], axis=1).mean() for c in range(4))
    gaps = [np.linalg.norm(means[a] - means[b]) for a in range(4) for b in range(a + 1, 4)]
    assert min(gaps) > 5 * spread


def test_teacher_scale_benchmark_runs_and_recovers_its_planted_topics(tmp_path):
    """benchmarks/teacher_scale.py at toy sizes: it writes its tables, and its planted graph has
    the topic structure the spectral embedding is timed on (topics separate in the embedding)."""
    import importlib.util
    from pathlib import Path

    from semhash.model import spectral_embedding

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "teacher_scale.py"
    spec = importlib.util.spec_from_file_location("teacher_scale_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "scale.md"
    module.main(["--knn-sizes", "400", "--graph-sizes", "1500", "--out", str(out)])
    text = out.read_text()
    assert "| 400 |" in text and "| 1,500 | 75,000 |" in text
    rows = module.synthetic_rows(300, np.random.default_rng(1))
    assert rows.shape == (300, 10_000) and 40 <= rows.getnnz(axis=1).min() <= rows.getnnz(axis=1).max() <= 85
    nb = module.planted_graph(2000, 20, np.random.default_rng(2))
    assert nb.shape == (2000, 20) and nb.min() >= 0 and nb.max() < 2000
    E = spectral_embedding(nb, 24, seed=0)
    assert E.shape[1] >= 10  # the planted topics give many directions above the eigenvalue floor


@pytest.mark.slow
def test_graph_code_loss_pulls_the_encoder_to_the_graph_bits():
    from semhash.model import graph_code_targets, nearest_neighbours

    nbrs = nearest_neighbours(X, min(ModelConfig().graph_neighbours, X.shape[0] - 1))

    def agreements(seed):
        cfg = dict(TINY, pretrain="none", epochs=30, word_dropout=0.0, threshold="half", seed=seed)
        target = graph_code_targets(length_normalized(X, ModelConfig().input_length), nbrs, ModelConfig(**cfg))
        return [(encode_bits(train(X, ModelConfig(**cfg, graph_codes=g)).encoder, X) == target).mean()
                for g in (5.0, 0.0)]

    # Three trainings each way, compared by their means. Measured over SEMHASH_TEST_SEED 0-7 (24
    # trainings each way): one training agrees 0.70-0.91 with the loss and 0.34-0.63 without (the
    # control matches the bits' signs only by chance, 0.5 on average, but its 8 topical bits swing
    # together); means of three 0.77-0.88 and 0.42-0.58. The bounds sit about 3.5 standard
    # deviations of a three-run mean below the averages (0.82 and a gap of 0.31).
    runs = np.array([agreements(TINY["seed"] + i) for i in range(3)])
    with_graph, without = runs.mean(axis=0)
    print(f"agreement with the graph bits: {with_graph:.3f} with the graph loss, {without:.3f} without ({runs.tolist()})")
    assert with_graph > without + 0.12
    assert with_graph > 0.7


@pytest.mark.slow
def test_given_code_targets_replace_the_graph_bits():
    # one random codeword per topic: the encoder must learn to give each document its topic's
    # codeword, which the graph teacher's bits (other directions, other rotations) are not
    rng = np.random.default_rng(7 + SEED)
    topics = sorted(set(LABELS))
    words = rng.random((len(topics), 8)) > 0.5
    while (words.all(axis=0) | ~words.any(axis=0)).any() or len({w.tobytes() for w in words}) < len(topics):
        words = rng.random((len(topics), 8)) > 0.5  # every bit splits the topics; distinct codewords
    target = words[[topics.index(t) for t in LABELS]].astype(np.uint8)
    cfg = ModelConfig(**dict(TINY, pretrain="none", epochs=60, word_dropout=0.0, threshold="half"))

    taught = (encode_bits(train(X, cfg, code_targets=target).encoder, X) == target).mean()
    graph = (encode_bits(train(X, cfg).encoder, X) == target).mean()
    off = ModelConfig(**{**asdict(cfg), "graph_codes": 0.0})  # targets given: weight 1.0
    taught_off = (encode_bits(train(X, off, code_targets=target.astype(bool)).encoder, X) == target).mean()
    print(f"agreement with the given bits: {taught:.3f} (graph codes off: {taught_off:.3f}), graph teacher {graph:.3f}")
    assert taught > 0.95 and taught_off > 0.95
    assert graph < taught - 0.15


@pytest.mark.parametrize("targets, message", [
    (np.zeros((3, 8)), "one row per document"),
    (np.zeros((X.shape[0], 16)), "one column per bit"),
    (np.full((X.shape[0], 8), 0.5), "only 0 and 1"),
])
def test_bad_code_targets_are_refused(targets, message):
    with pytest.raises(ConfigError, match=message):
        train(X, ModelConfig(**TINY), code_targets=targets)


@pytest.mark.parametrize("bad, message", [
    (dict(graph_codes=-1.0), "graph_codes must be at least 0"),
    (dict(graph_neighbours=0), "graph_neighbours"),
    (dict(graph_alpha=1.5), "graph_alpha"),
    (dict(graph_dims=0), "graph_dims"),
    (dict(graph_teacher="pagerank"), "graph_teacher must be one of spectral, smoothed"),
])
def test_bad_graph_config_is_a_clear_error(bad, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**{**TINY, **bad}).validate()


def length_normalized(X, length):
    from semhash.codes import length_normalize

    return length_normalize(sp.csr_matrix(X, dtype=np.float32), length)


def test_median_thresholds_never_split_documents_that_differ_only_by_rounding():
    from semhash.model import median_thresholds

    rng = np.random.default_rng(0)
    base = rng.normal(size=(3, 4))
    # 10 documents: the middle of every column falls inside a block of near-identical values
    logits = np.repeat(base, [3, 4, 3], axis=0) + rng.normal(scale=1e-15, size=(10, 4))
    t = median_thresholds(logits)
    gap = np.abs(logits - t).min(axis=0)
    assert (gap > 1e-3).all()  # no document within rounding distance of a threshold
    bits = logits > t
    # the near-identical rows always fall on the same side
    for block in (slice(0, 3), slice(3, 7), slice(7, 10)):
        assert (bits[block] == bits[block][0]).all()
    # distinct values: the plain median split, as balanced as it gets
    spread = rng.normal(size=(11, 5))
    assert (np.abs((spread > median_thresholds(spread)).sum(axis=0) - 5.5) <= 0.5).all()
    assert (median_thresholds(np.ones((6, 2))) == 0).all()  # nothing to split


@pytest.mark.slow
def test_smoothed_graph_codes_refuse_a_corpus_beyond_the_memory_budget(monkeypatch):
    from semhash.model import GRAPH_MEMORY_ENV

    need_gb = X.shape[0] * X.shape[1] * 12 / 1e9
    monkeypatch.setenv(GRAPH_MEMORY_ENV, f"{need_gb / 2:.12f}")
    with pytest.raises(ConfigError, match="--graph-codes 0"):
        train(X, ModelConfig(**TINY, graph_teacher="smoothed"))
    train(X, ModelConfig(**TINY, graph_codes=0.0))  # without graph codes there is nothing to refuse
    train(X, ModelConfig(**TINY))  # the spectral teacher (default) keeps only the sparse graph
    monkeypatch.setenv(GRAPH_MEMORY_ENV, "lots")
    with pytest.raises(ConfigError, match="number of gigabytes"):
        train(X, ModelConfig(**TINY, graph_teacher="smoothed"))


def test_nearest_neighbours_of_query_rows_and_their_average():
    from semhash.model import nearest_neighbours, neighbour_average
    from semhash.vectorize import l2_normalize

    Q = X[::7]
    nbrs = nearest_neighbours(X, 4, chunk=3, queries=Q)
    S = l2_normalize(Q).toarray() @ l2_normalize(X).toarray().T
    # a query that is also a row finds that row first (it is not excluded as a document would be)
    np.testing.assert_allclose(np.take_along_axis(S, nbrs, axis=1)[:, 0], S.max(axis=1), atol=1e-6)
    A = neighbour_average(nbrs, X.shape[0])
    assert A.shape == (Q.shape[0], X.shape[0])
    np.testing.assert_allclose(A.toarray() @ X.toarray(), X.toarray()[nbrs].mean(axis=1), atol=1e-6)


def test_word_share_step_cuts_only_a_vocabulary_that_few_words_dominate():
    from semhash.model import RBM_MAX_WORD_SHARE, word_share_step

    assert word_share_step(np.ones(1000)) == 1.0  # 0.1 % each: the full rate
    assert word_share_step(np.r_[np.ones(99), 1.0]) == 1.0  # 1 % each: still the full rate
    concentrated = np.r_[np.ones(30), 10.0]  # one word carries 25 % of the weight
    assert word_share_step(concentrated) == pytest.approx(RBM_MAX_WORD_SHARE / (10 / 40))
    assert word_share_step(np.zeros(5)) == 1.0

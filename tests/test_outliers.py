"""Unusual-document detection: reconstruction errors of the saved autoencoder."""

import itertools
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import NG20, SEED


@pytest.fixture(scope="module")
def mixed_index(tmp_path_factory):
    """150 hockey posts and 5 medical ones, indexed with a small model."""
    train = NG20 / "train"
    if not (train / "rec.sport.hockey").is_dir() or not (train / "sci.med").is_dir():
        pytest.skip(f"20 Newsgroups not found at {NG20}")
    from semhash.corpus import read_corpus
    from semhash.index import IndexConfig, SemanticIndex
    from semhash.model import ModelConfig
    from semhash.vectorize import VectorizerConfig

    root = tmp_path_factory.mktemp("mixed")
    for group, k in (("rec.sport.hockey", 150), ("sci.med", 5)):
        (root / "corpus" / group).mkdir(parents=True)
        for f in sorted((train / group).iterdir())[:k]:
            shutil.copy(f, root / "corpus" / group / f.name)
    report = read_corpus(root / "corpus")
    config = IndexConfig(VectorizerConfig(min_df=2),
                         ModelConfig(n_bits=16, hidden=(64, 32), epochs=8, pretrain_epochs=2, seed=SEED))
    idx = SemanticIndex.build(report.documents, config)
    idx.save(root / "idx")
    return idx, report.documents, root / "idx"


@pytest.mark.slow
def test_foreign_documents_rank_near_the_top(mixed_index):
    from semhash.outliers import find_outliers

    idx, _, _ = mixed_index
    found = find_outliers(idx, 15)
    assert [o.rank for o in found] == list(range(1, 16))
    assert all(a.error >= b.error for a, b in itertools.pairwise(found))
    foreign = [o.id for o in found if o.id.startswith("sci.med/")]
    assert len(foreign) >= 3, [(o.id, o.error) for o in found]


def test_stored_rows_give_the_training_input(mixed_index):
    """L2-normalized rows and raw rows differ by a per-row factor: length normalization removes it."""
    from semhash.codes import length_normalize
    from semhash.outliers import model_inputs

    idx, documents, _ = mixed_index
    raw = idx.vectorizer.transform([d.text for d in documents])
    rows = np.sort(np.asarray(idx.table.ids_))
    expected = length_normalize(raw[np.diff(raw.indptr) > 0], idx.encoder.input_length).toarray()
    np.testing.assert_allclose(model_inputs(idx, rows).toarray(), expected, rtol=1e-5, atol=1e-4)


def test_saved_index_and_added_documents_are_scored(mixed_index):
    from semhash.corpus import Document
    from semhash.index import open_index
    from semhash.outliers import reconstruction_errors

    idx, documents, folder = mixed_index
    rows, errors = reconstruction_errors(idx)
    loaded = open_index(folder)
    rows2, errors2 = reconstruction_errors(loaded)
    np.testing.assert_array_equal(rows, rows2)
    np.testing.assert_allclose(errors, errors2, rtol=1e-5)
    assert len(rows) == 155 and np.isfinite(errors).all() and (errors >= 0).all()
    first = documents[0]
    loaded.add([Document("extra/copy", "extra/copy", first.title, first.text)])
    rows3, errors3 = reconstruction_errors(loaded)
    assert len(rows3) == 156
    # an added copy of a document scores as the original does
    by_row = dict(zip(rows3.tolist(), errors3.tolist()))
    original = loaded.rows_for_ids([first.id])[first.id]
    new = loaded.rows_for_ids(["extra/copy"])["extra/copy"]
    assert by_row[new] == pytest.approx(by_row[original], rel=1e-4)
    loaded.close()


def test_outliers_command(small_index):
    from semhash.cli import cli

    folder, _ = small_index
    result = CliRunner().invoke(cli, ["outliers", "--index", str(folder), "-n", "5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["rank"] for d in data] == [1, 2, 3, 4, 5]
    assert set(data[0]) == {"rank", "row", "id", "path", "title", "error", "cross_entropy", "snippet"}
    assert all(a["error"] >= b["error"] for a, b in itertools.pairwise(data))
    assert all(d["cross_entropy"] >= d["error"] >= 0 for d in data)
    text = CliRunner().invoke(cli, ["outliers", "--index", str(folder), "-n", "2"])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("  1. [error ") and f"] {data[0]['id']} — " in text.output


def test_outliers_with_a_damaged_model_is_a_clear_error(small_index, tmp_path):
    from semhash.cli import cli

    folder, _ = small_index
    copy = tmp_path / "damaged"
    shutil.copytree(folder, copy)
    data = bytearray((copy / "model.keras").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "model.keras").write_bytes(bytes(data))
    assert CliRunner().invoke(cli, ["outliers", "--index", str(copy)]).exit_code == 0  # it reads decoder.npz
    data = bytearray((copy / "decoder.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the checksum can tell
    (copy / "decoder.npz").write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["outliers", "--index", str(copy)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: index file {copy / 'decoder.npz'} does not match its checksum (corrupted); "
        "rebuild the index with `semhash index`")
    (copy / "decoder.npz").unlink()
    result = CliRunner().invoke(cli, ["outliers", "--index", str(copy)])
    assert result.exit_code == 1 and f"index file missing: {copy / 'decoder.npz'}" in result.stderr


# --------------------------------------------------------------------------- NumPy reconstructions


def tiny_index(corpus, folder, drop_decoder: bool = False, **model):
    """A small index over ``corpus`` saved to ``folder`` (without decoder.npz, as older semhash
    wrote them, when ``drop_decoder``)."""
    from semhash.corpus import read_corpus
    from semhash.index import IndexConfig, SemanticIndex, open_index
    from semhash.model import ModelConfig
    from semhash.vectorize import VectorizerConfig

    params = dict(n_bits=8, hidden=(16,), epochs=2, pretrain="none", batch_size=16, seed=0, **model)
    idx = SemanticIndex.build(read_corpus(corpus).documents, IndexConfig(VectorizerConfig(min_df=1),
                                                                         ModelConfig(**params)))
    if drop_decoder:
        idx.training_.decoder = None
    idx.save(folder)
    return open_index(folder)


@pytest.mark.parametrize("model", [
    {"variant": "plain"}, {"variant": "plain", "activation": "relu"}, {"variant": "denoising"},
    {"variant": "sparse"}, {"variant": "contractive"}, {"variant": "variational"},
], ids=lambda m: "-".join(m.values()))
@pytest.mark.slow
def test_numpy_reconstruction_equals_the_keras_model(topical_corpus, tmp_path, model):
    from semhash.outliers import keras_cross_entropies, numpy_cross_entropies, numpy_decoder

    idx = tiny_index(topical_corpus, tmp_path / "idx", **model)
    assert (tmp_path / "idx" / "decoder.npz").is_file()
    decoder = numpy_decoder(idx)
    assert decoder.code_activation == ("linear" if model["variant"] == "variational" else "sigmoid")
    rows = np.sort(np.asarray(idx.table.ids_))
    ce, h = numpy_cross_entropies(idx, decoder, rows, batch_size=7)  # batches of any size agree
    ce_keras, h_keras = keras_cross_entropies(idx, rows)
    assert np.std(ce - h) > 1e-3  # documents differ: the comparison is not of constants
    np.testing.assert_allclose(ce, ce_keras, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h, h_keras, rtol=1e-5, atol=1e-5)
    idx.close()


@pytest.mark.slow
def test_outliers_command_runs_without_tensorflow(topical_corpus, tmp_path):
    import subprocess
    import sys

    from semhash.outliers import find_outliers

    folder = tmp_path / "idx"
    idx = tiny_index(topical_corpus, folder)
    code = (
        "import json, sys\n"
        "from semhash.cli import cli\n"
        f"cli(['outliers', '--index', {str(folder)!r}, '-n', '5', '--json'], standalone_mode=False)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    *listing, loaded = out.stdout.strip().splitlines()
    assert json.loads(loaded) == []
    keras_ranked = [o.id for o in find_outliers(idx, 5, decoder=None)]  # decoder.npz, as the command
    assert [o["id"] for o in json.loads("\n".join(listing))] == keras_ranked
    idx.close()


@pytest.mark.slow
def test_index_without_decoder_falls_back_to_keras(topical_corpus, tmp_path):
    from semhash.cli import cli
    from semhash.outliers import numpy_decoder

    folder = tmp_path / "old"
    idx = tiny_index(topical_corpus, folder, drop_decoder=True)
    assert not (folder / "decoder.npz").exists() and numpy_decoder(idx) is None
    result = CliRunner().invoke(cli, ["outliers", "--index", str(folder), "-n", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert "no decoder.npz" in result.stderr and "TensorFlow" in result.stderr
    assert len(json.loads(result.stdout)) == 3
    idx.close()

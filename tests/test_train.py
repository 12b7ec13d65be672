"""The training package's seams: registries that match the CLI's choices, an immutable config,
imports that stay free of TensorFlow, and saved models that keep loading."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from semhash import choices
from semhash.errors import ConfigError
from semhash.train.config import ModelConfig


def last_line_of_python(code: str) -> str:
    """The last line ``code`` prints, run in a fresh interpreter (which must succeed)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_registries_are_the_choices_the_cli_offers():
    from semhash.train.autoencoder import AUTOENCODER_VARIANTS
    from semhash.train.pretrain import PRETRAINERS
    from semhash.train.teachers import TEACHERS

    assert tuple(AUTOENCODER_VARIANTS) == choices.VARIANTS
    assert tuple(PRETRAINERS) == choices.PRETRAIN_KINDS
    assert tuple(TEACHERS) == choices.GRAPH_TEACHERS


@pytest.mark.slow
def test_numpy_side_of_training_imports_no_tensorflow():
    code = (
        "import sys\n"
        "import semhash.train, semhash.train.config, semhash.train.itq, semhash.train.graph, semhash.train.teachers\n"
        "import semhash.train.rbm, semhash.train.export, semhash.train.arrays, semhash.model\n"
        "from semhash.model import ModelConfig, nearest_neighbours, spectral_embedding, median_thresholds\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    assert last_line_of_python(code) == "[]"
    config_only = ("import sys, semhash.train.config\n"
                   "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'sklearn', 'scipy'}))")
    assert last_line_of_python(config_only) == "[]"


def test_model_config_is_frozen_validated_and_replaced():
    cfg = ModelConfig(n_bits=16, hidden=[64, 32])
    assert cfg.hidden == (64, 32)  # kept as a tuple
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_bits = 24
    longer = cfg.replace(n_bits=24)
    assert (longer.n_bits, cfg.n_bits, longer.hidden) == (24, 16, (64, 32))
    with pytest.raises(ConfigError, match="bits must be a multiple of 8 between 8 and 128, got 12"):
        cfg.replace(n_bits=12)
    with pytest.raises(ConfigError, match="variant must be one of"):
        ModelConfig(variant="ladder")
    with pytest.raises(ConfigError, match="the vocabulary has 1 word"):
        cfg.validate(1)
    assert ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg  # as a manifest stores it
    assert cfg.to_dict()["hidden"] == [64, 32]


@pytest.mark.slow
def test_saved_models_of_every_variant_load(tmp_path):
    """A model.keras of each variant loads in a fresh process, including files written before the
    layers moved to semhash.train.layers (their config names the module semhash.model)."""
    from semhash.train.autoencoder import build_autoencoder

    x = np.random.default_rng(0).random((4, 12)).astype(np.float32)
    for variant in choices.VARIANTS:
        model = build_autoencoder(12, ModelConfig(n_bits=8, hidden=(6,), variant=variant)).autoencoder
        model.save(tmp_path / f"{variant}.keras")
        np.save(tmp_path / f"{variant}.npy", model.predict(x, verbose=0))
        with zipfile.ZipFile(tmp_path / f"{variant}.keras") as z:
            files = {name: z.read(name) for name in z.namelist()}
        config = files["config.json"].decode()
        assert '"semhash.train.layers"' in config
        files["config.json"] = config.replace('"semhash.train.layers"', '"semhash.model"').encode()
        with zipfile.ZipFile(tmp_path / f"{variant}-old.keras", "w") as z:
            for name, data in files.items():
                z.writestr(name, data)
    np.save(tmp_path / "x.npy", x)
    code = (
        "import sys, numpy as np\n"
        "from semhash.model import load_keras_model\n"
        f"folder, variants = {str(tmp_path)!r}, {list(choices.VARIANTS)!r}\n"
        "x = np.load(folder + '/x.npy')\n"
        "for v in variants:\n"
        "    for name in (v, v + '-old'):\n"
        "        got = load_keras_model(f'{folder}/{name}.keras').predict(x, verbose=0)\n"
        "        np.testing.assert_allclose(got, np.load(f'{folder}/{v}.npy'), atol=1e-6)\n"
        "print('ok')\n"
    )
    assert last_line_of_python(code) == "ok"

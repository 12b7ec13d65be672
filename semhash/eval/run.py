"""One evaluation run: :class:`EvalConfig`, the prepared split, and the loop over methods.

The split is prepared once (:func:`prepare_data`); every method of the registry
(:data:`semhash.eval.methods.METHODS`) then makes its codes or scores on it and is measured the
same way, each run timed.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy
import scipy.sparse as sp
from tqdm.auto import tqdm

from .. import __version__
from ..errors import ConfigError, CorpusError
from .data import (
    ENV_20NG,
    REMOVABLE_PARTS,
    EvalData,
    LabelledCorpus,
    LoadedCorpus,
    ReadOptions,
    read_labelled,
    split_corpus,
    split_queries,
)
from .features import FeatureConfig, ProtocolFeatures, protocol_features
from .labels import (
    chance_precision,
    documents_per_label,
    is_multi_label,
    labels_per_document,
    relevant_counts,
)
from .methods import ALL_METHODS, HASHING_METHODS, METHODS, MethodInputs, ModelOptions, check_dependencies
from .presets import PRESETS as PRESET_REGISTRY
from .results import json_safe, quoted_block

SPLITS = ("validation", "test")
DEFAULT_BITS = (16, 32, 64, 128)
DEFAULT_KS = (1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500, 600, 700, 800, 900, 1000)


def _l2_rows(X: sp.csr_matrix) -> sp.csr_matrix:
    from sklearn.preprocessing import normalize  # scikit-learn only once a run has data

    return normalize(X)


def _raw_weights(X: sp.csr_matrix) -> sp.csr_matrix:
    return X


# what LSH/LSI/ITQ/SH see: L2-normalised rows or the raw weights
BASELINE_INPUTS: dict[str, Callable[[sp.csr_matrix], sp.csr_matrix]] = {"l2": _l2_rows, "tfidf": _raw_weights}


@dataclass(frozen=True)
class EvalConfig:
    """Everything one evaluation run needs; :meth:`from_preset` makes the named protocols.

    ``root`` is a folder of label folders, or of ``train/`` and ``test/`` each holding label
    folders, or a labelled ``.jsonl`` file; with ``preset`` set, the preset's reader reads it
    (``None``: the preset's own corpus). Without a fixed split, documents are shuffled with
    ``split_seed`` into database / validation / test by ``fractions``; with one, the test
    documents are shuffled and halved into validation / test. ``seed`` drives the baselines, the
    model and tie breaking. Validated on construction; change it with ``dataclasses.replace``.
    """

    root: Path | None
    name: str = "corpus"
    preset: str | None = None
    methods: tuple[str, ...] = ALL_METHODS
    bits: tuple[int, ...] = DEFAULT_BITS
    split: str = "test"
    seed: int = 0
    split_seed: int = 0
    remove: tuple[str, ...] = ()
    encoding: str = "utf-8"
    limit_per_class: int | None = None
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    features: FeatureConfig = FeatureConfig()  # noqa: RUF009 - frozen, so one shared default is safe
    model: ModelOptions = ModelOptions()  # noqa: RUF009 - frozen, as above
    baseline_input: str = "l2"
    ks: tuple[int, ...] = DEFAULT_KS
    chunk_size: int = 500

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_preset(cls, name: str, root: str | os.PathLike | None = None, **overrides: Any) -> EvalConfig:
        """The protocol named ``name`` (:data:`semhash.eval.presets.PRESETS`), on ``root`` when
        given, else on the preset's own corpus; ``overrides`` replace any field."""
        if name not in PRESET_REGISTRY:
            raise ConfigError(f"unknown preset {name!r}; choose from {', '.join(PRESET_REGISTRY)}")
        preset = PRESET_REGISTRY[name]
        base = cls(root=preset.root(root), name=name, preset=name, remove=preset.remove, encoding=preset.encoding,
                   fractions=preset.fractions)
        return replace(base, **overrides)

    @classmethod
    def preset_20ng(cls, root: str | os.PathLike | None = None, **overrides: Any) -> EvalConfig:
        """The 20 Newsgroups protocol: headers, footers and quotes removed, latin-1, by-date split."""
        return cls.from_preset("20ng", root, **overrides)

    def validate(self) -> None:
        """:class:`ConfigError` naming the first option semhash cannot use."""
        unknown = [m for m in self.methods if m not in ALL_METHODS]
        if unknown or not self.methods:
            raise ConfigError(f"unknown method(s) {unknown or '(none given)'}; choose from {', '.join(ALL_METHODS)}")
        hashing = [m for m in self.methods if m in HASHING_METHODS]
        if hashing and not self.bits:
            raise ConfigError("give at least one bit length")
        # not semhash.checks.check_n_bits: the baselines also make codes longer than an index's 128 bits
        bad = [b for b in self.bits if b < 8 or b % 8]
        if bad:
            raise ConfigError(f"bit lengths must be positive multiples of 8, got {bad}")
        if self.preset is not None and self.preset not in PRESET_REGISTRY:
            raise ConfigError(f"unknown preset {self.preset!r}; choose from {', '.join(PRESET_REGISTRY)}")
        if self.preset is None and self.root is None:
            raise ConfigError("give a corpus folder or file, or a preset")
        if self.split not in SPLITS:
            raise ConfigError(f"split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if set(self.remove) - set(REMOVABLE_PARTS):
            raise ConfigError(f"remove takes {', '.join(REMOVABLE_PARTS)}, got {list(self.remove)}")
        if self.limit_per_class is not None and self.limit_per_class < 1:
            raise ConfigError(f"limit_per_class must be at least 1, got {self.limit_per_class}")
        if self.baseline_input not in BASELINE_INPUTS:
            raise ConfigError(f"baseline_input must be one of {', '.join(BASELINE_INPUTS)}, got {self.baseline_input!r}")
        if not self.ks or min(self.ks) < 1:
            raise ConfigError(f"ks must be positive, got {list(self.ks)}")


# the named protocols of `semhash evaluate --preset` (semhash.eval.presets.PRESETS)
PRESETS = tuple(PRESET_REGISTRY)


def machine_info() -> dict[str, Any]:
    """Platform, Python, CPU count and library versions, for reports."""
    import sklearn  # scikit-learn's version; a run has imported it already

    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "semhash": __version__,
    }


# --------------------------------------------------------------------------------------------
# the prepared split


class _Split(NamedTuple):
    db: LabelledCorpus
    queries: LabelledCorpus
    X_db: sp.csr_matrix
    X_query: sp.csr_matrix
    features: ProtocolFeatures
    layout: str
    sizes: dict[str, int]


def _pick(split: str, validation: np.ndarray, test: np.ndarray) -> np.ndarray:
    return validation if split == "validation" else test


def _split_fixed(db: LabelledCorpus, test: LabelledCorpus, config: EvalConfig) -> _Split:
    """Database = the corpus's database side; queries = one half of its shuffled test side."""
    feats = protocol_features(db.texts, test.texts, config.features)
    db, test = db.subset(np.flatnonzero(feats.train_kept)), test.subset(np.flatnonzero(feats.query_kept))
    val_idx, test_idx = split_queries(len(test), config.split_seed)
    pick = _pick(config.split, val_idx, test_idx)
    sizes = {"validation": int(val_idx.size), "test": int(test_idx.size)}
    layout = "train/test folders; test halved into validation/test"
    return _Split(db, test.subset(pick), feats.X_train, feats.X_query[pick], feats, layout, sizes)


def _split_random(corpus: LabelledCorpus, config: EvalConfig) -> _Split:
    """Every document shuffled into database / validation / test by ``config.fractions``."""
    db_idx, val_idx, test_idx = split_corpus(len(corpus), config.split_seed, config.fractions)
    db, queries = corpus.subset(db_idx), corpus.subset(_pick(config.split, val_idx, test_idx))
    feats = protocol_features(db.texts, queries.texts, config.features)
    db, queries = db.subset(np.flatnonzero(feats.train_kept)), queries.subset(np.flatnonzero(feats.query_kept))
    sizes = {"validation": int(val_idx.size), "test": int(test_idx.size)}
    fractions = "/".join(f"{f:g}" for f in config.fractions)
    layout = f"random {fractions} split into database/validation/test, split seed {config.split_seed}"
    return _Split(db, queries, feats.X_train, feats.X_query, feats, layout, sizes)


def read_config_corpus(config: EvalConfig) -> LoadedCorpus:
    """The documents of ``config``: its preset's reader, or a plain folder or JSONL file."""
    options = ReadOptions(None if config.root is None else Path(config.root), tuple(config.remove), config.encoding,
                          config.limit_per_class)
    read = PRESET_REGISTRY[config.preset].read if config.preset is not None else read_labelled
    try:
        return read(options)
    except CorpusError as e:
        missing = str(e).startswith("corpus folder not found")
        hint = f"; set ${ENV_20NG} or pass the folder" if missing and config.name.startswith("20ng") else ""
        raise CorpusError(f"{e}{hint}") from e


def label_summary(db: LabelledCorpus, queries: LabelledCorpus) -> dict[str, Any]:
    """How the labels fall: multi-label or not, labels per document, documents per label
    (database side), and the precision@100 of a random and of a perfect ranking."""
    per_doc = labels_per_document(db.labels)
    relevant = relevant_counts(db.labels, queries.labels)
    return {
        "multi_label": bool(is_multi_label(db.labels)),
        "labels_per_document": float(per_doc.mean()) if per_doc.size else float("nan"),
        "database_documents_per_label": dict(zip(db.label_names, documents_per_label(db.labels, len(db.label_names)))),
        "chance_precision": chance_precision(db.labels, queries.labels),
        # a perfect ranking's precision@100: a query with R < 100 relevant documents gets R / 100
        "best_possible_p100": float(np.mean(np.minimum(relevant, 100) / 100)) if relevant.size else float("nan"),
    }


def prepare_data(config: EvalConfig) -> EvalData:
    """Load the corpus of ``config``, build protocol features, and pick the query split."""
    loaded = read_config_corpus(config)
    if loaded.test is not None:
        split = _split_fixed(loaded.corpus, loaded.test, config)
    else:
        split = _split_random(loaded.corpus, config)
    db, queries, feats = split.db, split.queries, split.features
    if len(queries) == 0:
        raise CorpusError(f"the {config.split} split holds no non-empty document")
    info = {
        "root": str(config.root) if config.root is not None else f"built by the {config.preset} preset",
        "layout": split.layout,
        "preprocessing": loaded.notes,
        "n_database": len(db),
        "n_queries": len(queries),
        "split": config.split,
        "split_sizes": split.sizes,
        "n_labels": len(db.label_names),
        "labels": db.label_names,
        "vocabulary_size": len(feats.vocabulary),
        "dropped_empty": int((~feats.train_kept).sum() + (~feats.query_kept).sum()),
        **label_summary(db, queries),
    }
    return EvalData(split.X_db, db.labels, db.texts, split.X_query, queries.labels, queries.texts, db.label_names, info)


# --------------------------------------------------------------------------------------------
# the run loop


def method_inputs(data: EvalData, config: EvalConfig, progress: bool = False) -> MethodInputs:
    """What every method of the run receives: the split, the baselines' view of it, the cut-offs
    k (those within the database, and always 100 when the database holds 100 documents)."""
    n_db = data.X_db.shape[0]
    ks = sorted({k for k in config.ks if k <= n_db} | ({100} if n_db >= 100 else set())) or [n_db]
    view = BASELINE_INPUTS[config.baseline_input]
    return MethodInputs(data, view(data.X_db), view(data.X_query), config.seed, config.model, ks,
                        config.chunk_size, progress)


def _run_once(name: str, n_bits: int | None, inputs: MethodInputs, entry: dict[str, Any], shared: dict[str, Any],
              width: int) -> dict[str, Any]:
    """One run of method ``name`` (its shared setup first, once), with its timings."""
    method = METHODS[name]
    if method.shares_setup and name not in shared:
        t0 = time.perf_counter()
        shared[name] = method.setup(inputs, width)
        entry["setup_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    output = method.produce(inputs, shared.get(name), n_bits)
    t1 = time.perf_counter()
    run = method.measure(output, inputs)
    del output  # a reference's scores are n_queries x n_db floats
    t2 = time.perf_counter()
    run.update(n_bits=n_bits, p100=run["p_at_k"].get(100), code_seconds=t1 - t0, eval_seconds=t2 - t1,
               seconds=t2 - t0)
    return run


def _run_methods(config: EvalConfig, inputs: MethodInputs, progress: bool) -> dict[str, Any]:
    """Every run of every method, hashing methods first (each at every code length)."""
    entries: dict[str, Any] = {
        name: {"label": METHODS[name].label, "kind": METHODS[name].kind, "setup_seconds": 0.0, "runs": []}
        for name in config.methods
    }
    steps = [(name, n_bits) for name in config.methods for n_bits in METHODS[name].lengths(config.bits)]
    steps.sort(key=lambda step: step[1] is None)  # stable: the references after every code length
    shared: dict[str, Any] = {}  # each method's setup (a projection), kept for its other lengths
    width = max(config.bits, default=0)  # setups work at the largest code length
    bar = tqdm(steps, desc="evaluate", unit="run", disable=not progress, leave=False)
    for name, n_bits in bar:
        bar.set_postfix_str(name if n_bits is None else f"{name} {n_bits} bits")
        entries[name]["runs"].append(_run_once(name, n_bits, inputs, entries[name], shared, width))
    bar.close()
    for entry in entries.values():
        entry["seconds"] = entry["setup_seconds"] + sum(r["seconds"] for r in entry["runs"])
    return entries


def run_evaluation(config: EvalConfig, progress: bool = False) -> dict[str, Any]:
    """Run every method of ``config`` on the same split and return the results dictionary.

    Structure: ``{"config", "dataset", "machine", "date", "total_seconds", "quoted",
    "methods": {name: {"label", "kind": "hashing"|"reference", "runs": [run, ...]}}}`` where a
    run is ``{"n_bits" (None for references), "p_at_k": {k: p}, "p100", "pr", "code_seconds",
    "eval_seconds", "seconds"}``; ``pr`` holds ``radius`` (hashing) or ``rank`` (references)
    with ``precision``/``recall`` lists. A method's ``setup_seconds`` is the projection shared
    by its bit lengths (LSI, PCA) and ``seconds`` its total. The LSH/LSI/ITQ/SH baselines see
    L2-normalised TF-IDF rows unless ``config.baseline_input == "tfidf"``; semhash and the
    references see the protocol TF-IDF. Progress bars go to stderr when ``progress``.
    """
    check_dependencies(config.methods)
    started = time.perf_counter()
    date = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    data = prepare_data(config)
    prep_seconds = time.perf_counter() - started
    methods = _run_methods(config, method_inputs(data, config, progress), progress)
    return json_safe(
        {
            "config": asdict(config),
            "dataset": {**data.info, "prepare_seconds": prep_seconds},
            "methods": methods,
            "quoted": quoted_block(PRESET_REGISTRY[config.preset].quoted) if config.preset is not None else None,
            "machine": machine_info(),
            "date": date,
            "total_seconds": time.perf_counter() - started,
        }
    )

"""Helpers shared by the benchmark scripts: paths, the recorded command, machine lines, the 20NG
split and the default model's training."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from semhash.codes import pack_bits
from semhash.eval.data import EvalData
from semhash.eval.metrics import precision_at_k
from semhash.eval.run import EvalConfig, prepare_data
from semhash.train.config import ModelConfig

REPO = Path(__file__).resolve().parents[1]
HERE = REPO / "benchmarks"
TARGET_20NG_P100 = {16: 56.0, 32: 63.0, 64: 66.0, 128: 68.0}  # issue 7: above the best published numbers


def command_line(module: str, argv: list[str] | None = None) -> str:
    """The command that runs benchmark ``module`` with ``argv`` (default: this process's
    arguments), as reports record it: ``python -m benchmarks.<module> ARGS``."""
    args = argv if argv is not None else sys.argv[1:]
    return f"python -m benchmarks.{module} " + " ".join(shlex.quote(a) for a in args)


def argument_parser(module: str, doc: str) -> argparse.ArgumentParser:
    """The parser of benchmark ``module``, named by its command and described by its docstring's first line."""
    return argparse.ArgumentParser(prog=f"python -m benchmarks.{module}", description=doc.split("\n")[0])


def int_list(text: str) -> list[int]:
    """``"16,32"`` -> ``[16, 32]``."""
    return [int(b) for b in text.split(",") if b.strip()]


def now() -> str:
    """The local date and time, as reports record it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def machine() -> str:
    """The platform and CPU count, as reports record them."""
    return f"{platform.platform()}, {os.cpu_count()} CPUs"


def wall_time_line(started: float) -> str:
    """The closing line of a report: wall time since ``started``, date and machine."""
    return f"Wall time {time.perf_counter() - started:.0f} s; {now()}; {machine()}."


def add_training_args(ap: argparse.ArgumentParser) -> None:
    """The options of the scripts that train the default model on the 20NG protocol."""
    ap.add_argument("--bits", default="16,32,64,128")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=None, help="fine-tuning epochs (default: the model's)")
    ap.add_argument("--limit-per-class", type=int, default=None, help="quick run on a slice")
    ap.add_argument("--root", type=Path, default=None, help="20news-bydate folder")


def load_20ng(root: Path | None = None, split: str = "test", limit_per_class: int | None = None) -> EvalData:
    """The prepared 20NG protocol (database = training set, queries = the ``split`` half)."""
    return prepare_data(EvalConfig.preset_20ng(root, split=split, limit_per_class=limit_per_class))


def train_default(X: Any, n_bits: int, seed: int, epochs: int | None, **kwargs: Any) -> tuple[Any, float]:
    """The default model trained on ``X`` (``epochs`` overrides its fine-tuning epochs) and the
    training time in seconds; ``kwargs`` go to ``train_encoder``."""
    from semhash.model import train_encoder  # imports TensorFlow

    cfg = ModelConfig(n_bits=n_bits, seed=seed, **({} if epochs is None else {"epochs": epochs}))
    started = time.perf_counter()
    encoder = train_encoder(X, cfg, **kwargs)
    return encoder, time.perf_counter() - started


def p100(db_bits: np.ndarray, q_bits: np.ndarray, db_labels: np.ndarray, q_labels: np.ndarray, seed: int = 0) -> float:
    """P@100 in percent of 0/1 codes, ranked by Hamming distance (ties at random with ``seed``)."""
    packed_db, packed_q = pack_bits(np.asarray(db_bits).astype(np.uint8)), pack_bits(np.asarray(q_bits).astype(np.uint8))
    return 100 * precision_at_k(packed_db, db_labels, packed_q, q_labels, (100,), seed)[100]

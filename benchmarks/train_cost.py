"""What training costs and what it buys: one model variant (``--set FIELD=VALUE`` over the
default ``ModelConfig``) trained on an evaluation preset's database, timed per phase (wall and
process CPU seconds, the load average beside them) and scored by P@100; writes one row of
benchmarks/TRAIN_COST.md (``--report`` rebuilds the table from the stored rows; the file's
``## Reading`` section, written by hand, is kept).

Each row is one command; tune with ``--split validation`` only, report ``--split test``.

    python -m benchmarks.train_cost --name default                       # the default model, 20NG, validation
    python -m benchmarks.train_cost --name no-rbm --set pretrain_epochs=0
    python -m benchmarks.train_cost --name default --sample 5000         # trained on 5,000 of the 11k
    python -m benchmarks.train_cost --preset stdlib --name default
    python -m benchmarks.train_cost --report                             # rewrite TRAIN_COST.md from the JSON
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from benchmarks.common import HERE, argument_parser, command_line, int_list, machine, now, p100
from semhash.codes import encode_bits
from semhash.eval.run import EvalConfig, prepare_data
from semhash.train.config import ModelConfig

JSON_PATH = HERE / "train_cost.json"
REPORT_PATH = HERE / "TRAIN_COST.md"


def parse_override(text: str) -> tuple[str, Any]:
    """``"epochs=8"`` -> ``("epochs", 8)``: the value as JSON when it parses (numbers, null,
    lists), a comma list for ``hidden``, else the string."""
    key, _, raw = text.partition("=")
    if key not in ModelConfig.__dataclass_fields__:
        raise SystemExit(f"unknown ModelConfig field {key!r}")
    if key == "hidden":
        return key, tuple(int(v) for v in raw.split(",") if v)
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


@contextmanager
def extra_phase(module: Any, name: str, phase: str, wall: dict[str, float], cpu: dict[str, float]) -> Iterator[None]:
    """Time every call of ``module.name`` (wall and CPU seconds into ``wall[phase]``, ``cpu[phase]``)."""
    original: Callable[..., Any] = getattr(module, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            wall[phase] = wall.get(phase, 0.0) + time.perf_counter() - w0
            cpu[phase] = cpu.get(phase, 0.0) + time.process_time() - c0

    setattr(module, name, wrapped)
    try:
        yield
    finally:
        setattr(module, name, original)


def curve_callback(data: Any, cfg: ModelConfig, points: list[dict[str, float]], scoring: list[float]) -> Any:
    """A Keras callback that, after every fine-tuning epoch, exports the encoder as it stands
    (thresholds on the whole database) and appends ``{epoch, p100, wall_s, cpu_s}`` to ``points``
    (fine-tuning seconds so far); the scoring's own wall and CPU seconds are added to ``scoring``."""
    from semhash.train.backend import keras  # imports TensorFlow
    from semhash.train.export import export_encoder

    class Curve(keras.callbacks.Callback):
        def on_train_begin(self, logs: Any = None) -> None:
            self.w0, self.c0 = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            wall, cpu = time.perf_counter() - self.w0, time.process_time() - self.c0
            enc = export_encoder(self.model.get_layer("encoder"), cfg, data.X_db)
            db, q = encode_bits(enc, data.X_db), encode_bits(enc, data.X_query)
            points.append({"epoch": epoch + 1, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                           "p100": round(p100(db, q, data.db_labels, data.query_labels, cfg.seed), 2)})
            print(json.dumps(points[-1]), flush=True)
            spent = (time.perf_counter() - self.w0 - wall, time.process_time() - self.c0 - cpu)
            self.w0, self.c0 = self.w0 + spent[0], self.c0 + spent[1]  # the scoring is not fine-tuning time
            scoring[0], scoring[1] = scoring[0] + spent[0], scoring[1] + spent[1]

    return Curve()


@contextmanager
def with_curve(trainer: Any, data: Any, cfg: ModelConfig, points: list[dict[str, float]],
               scoring: list[float]) -> Iterator[None]:
    """Score the encoder after every fine-tuning epoch (:func:`curve_callback`) while training."""
    original = trainer.fit

    def fit(model: Any, x: Any, y: Any, epochs: int, desc: str, progress: bool, callbacks: list, **kw: Any) -> Any:
        return original(model, x, y, epochs, desc, progress, [curve_callback(data, cfg, points, scoring), *callbacks], **kw)

    trainer.fit = fit
    try:
        yield
    finally:
        trainer.fit = original


def measure(data: Any, cfg: ModelConfig, curve: bool = False) -> dict[str, Any]:
    """Train ``cfg`` on the database, encode database and queries; seconds per phase and P@100
    (with ``curve``, also P@100 after every fine-tuning epoch, its scoring left out of the times)."""
    from semhash.train import trainer  # imports TensorFlow

    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    points: list[dict[str, float]] = []
    scoring = [0.0, 0.0]  # wall and CPU seconds of the curve's scoring, taken out of the times
    load_before = os.getloadavg()[0]
    w0, c0 = time.perf_counter(), time.process_time()
    with extra_phase(trainer, "nearest_neighbours", "neighbours", wall, cpu), \
            (with_curve(trainer, data, cfg, points, scoring) if curve else nullcontext()):
        result = trainer.train(data.X_db, cfg)
    total_wall, total_cpu = time.perf_counter() - w0 - scoring[0], time.process_time() - c0 - scoring[1]
    result.phase_seconds["fine-tune"] -= scoring[0]
    result.phase_cpu_seconds["fine-tune"] -= scoring[1]
    db, q = encode_bits(result.encoder, data.X_db), encode_bits(result.encoder, data.X_query)
    phases = {k: round(v, 1) for k, v in result.phase_seconds.items()}
    phases_cpu = {k: round(v, 1) for k, v in result.phase_cpu_seconds.items()}
    phases.update({k: round(v, 1) for k, v in wall.items()})
    phases_cpu.update({k: round(v, 1) for k, v in cpu.items()})
    return {"trained_on": data.X_db.shape[0] if result.sample_rows is None else len(result.sample_rows),
            "epochs_run": len(result.finetune_losses), "wall_s": round(total_wall, 1), "cpu_s": round(total_cpu, 1),
            "phase_wall_s": phases, "phase_cpu_s": phases_cpu,
            "load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "p100": round(p100(db, q, data.db_labels, data.query_labels, cfg.seed), 2), "curve": points}


def load_rows(path: Path) -> list[dict[str, Any]]:
    """The stored rows (none yet: an empty list)."""
    return json.loads(path.read_text()) if path.exists() else []


def cell(row: dict[str, Any], phase: str) -> str:
    """``wall / cpu`` seconds of one phase of ``row``."""
    wall, cpu = row["phase_wall_s"].get(phase), row["phase_cpu_s"].get(phase)
    return "—" if wall is None else f"{wall:.0f} / {cpu:.0f}"


def markdown(rows: list[dict[str, Any]]) -> str:
    """TRAIN_COST.md's table: one line per stored row, in the order they were measured."""
    lines = ["# Training cost (`python -m benchmarks.train_cost`)", "",
             "One row per trained model: the variant (fields of `ModelConfig` changed from the default of "
             "the time), the preset and split it is scored on (P@100 in percent, 32 bits unless the row "
             "says), the documents it trained on, the fine-tuning epochs it ran (early stopping), and "
             "seconds as **wall / process CPU** (CPU counts every thread of the process, so CPU > wall "
             "means several cores were used, wall >> CPU/cores means other jobs shared the 2 cores; "
             "`load` is the 1-minute load average before / after). Phases: RBM pretraining, the "
             "exact kNN graph (`knn`), the graph teacher (spectral bits; `graph` minus `knn`), fine-tuning "
             "(validation included). Each row is reproduced by the command under the table.", "",
             "| # | variant | preset / split | seed | trained on | epochs | P@100 | train wall / CPU s | pretrain | knn "
             "| graph | fine-tune | load |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for i, r in enumerate(rows, 1):
        if r.get("stopped"):  # stopped by hand once its curve had said enough: the last point of the curve
            lines.append(f"| {i} | {r['name']} | {r['preset']} / {r['split']} | {r['seed']} | {r['trained_on']:,} | "
                         f"{r['epochs_run']} (stopped) | {r['p100']:.2f} (curve) | — | — | — | — | "
                         f"{r['curve'][-1]['wall_s']:.0f} / {r['curve'][-1]['cpu_s']:.0f} | — |")
            continue
        lines.append(f"| {i} | {r['name']} | {r['preset']} / {r['split']} | {r['seed']} | {r['trained_on']:,} | "
                     f"{r['epochs_run']} | {r['p100']:.2f} | {r['wall_s']:.0f} / {r['cpu_s']:.0f} | "
                     f"{cell(r, 'pretrain')} | {cell(r, 'neighbours')} | {cell(r, 'graph')} | "
                     f"{cell(r, 'fine-tune')} | {r['load_avg'][0]:.1f} / {r['load_avg'][1]:.1f} |")
    curves = [(i, r) for i, r in enumerate(rows, 1) if r.get("curve")]
    if curves:
        lines += ["", "P@100 after each fine-tuning epoch (`--curve`; fine-tuning CPU seconds so far in brackets):", ""]
        lines += [f"- row {i}: " + ", ".join(f"{p['epoch']}: {p['p100']:.2f} ({p['cpu_s']:.0f})" for p in r["curve"])
                  for i, r in curves]
    lines += ["", "Commands:", ""]
    lines += [f"{i}. `{r['command']}` ({r['date']}, commit {r.get('commit', '?')})" for i, r in enumerate(rows, 1)]
    lines += ["", f"{machine()}.", ""]
    return "\n".join(lines)


def git_commit() -> str:
    """The short commit of the working tree (``?`` outside git)."""
    import subprocess  # only to label a row

    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
    return out.stdout.strip() or "?"


def main(argv: list[str] | None = None) -> None:
    ap = argument_parser("train_cost", __doc__)
    ap.add_argument("--name", default="default", help="the row's label")
    ap.add_argument("--preset", default="20ng", help="an evaluation preset with one label per document")
    ap.add_argument("--split", default="validation", choices=["validation", "test"])
    ap.add_argument("--bits", type=int, default=32)
    ap.add_argument("--seeds", type=int_list, default=[0])
    ap.add_argument("--sample", type=int, default=None, help="train on this many documents (default: the model's)")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="a ModelConfig field")
    ap.add_argument("--curve", action="store_true", help="also P@100 after every fine-tuning epoch")
    ap.add_argument("--json", type=Path, default=JSON_PATH)
    ap.add_argument("--out", type=Path, default=REPORT_PATH)
    ap.add_argument("--report", action="store_true", help="only rewrite --out from --json")
    args = ap.parse_args(argv)
    if not args.report:
        overrides = dict(parse_override(s) for s in args.set)
        if args.sample is not None:
            overrides["train_sample"] = args.sample or None
        data = prepare_data(EvalConfig.from_preset(args.preset, split=args.split))
        for seed in args.seeds:
            cfg = dataclasses.replace(ModelConfig(n_bits=args.bits, seed=seed), **overrides)
            row = {"name": args.name, "preset": args.preset, "split": args.split, "seed": seed, "bits": args.bits,
                   "overrides": {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()},
                   **measure(data, cfg, args.curve), "command": command_line("train_cost", argv), "date": now(),
                   "commit": git_commit()}
            print(json.dumps(row), flush=True)
            args.json.write_text(json.dumps(load_rows(args.json) + [row], indent=1) + "\n")
    reading = args.out.read_text().partition("\n## Reading")[2] if args.out.exists() else ""
    args.out.write_text(markdown(load_rows(args.json)) + ("\n## Reading" + reading if reading else ""))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

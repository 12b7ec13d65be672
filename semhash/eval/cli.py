"""``semhash evaluate``: retrieval quality of semhash and baselines on a labelled corpus."""

from __future__ import annotations

import datetime as _dt
import shlex
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click

from ..choices import GRAPH_TEACHERS, PRETRAIN_KINDS, VARIANTS
from ..errors import SemhashError
from .data import REMOVABLE_PARTS
from .methods import ALL_METHODS, ModelOptions, check_dependencies
from .presets import PRESETS as PRESET_REGISTRY
from .report import format_table, write_report
from .run import DEFAULT_BITS, PRESETS, SPLITS, EvalConfig, run_evaluation


def _int_list(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        items = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {value!r}") from None
    if not items:
        raise click.BadParameter("give at least one value")
    return items


def _name_list(choices: tuple[str, ...]) -> Any:
    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        items = tuple(v.strip().lower() for v in value.split(",") if v.strip())
        unknown = [v for v in items if v not in choices]
        if unknown:
            raise click.BadParameter(f"unknown {', '.join(unknown)}; choose from {', '.join(choices)}")
        return items

    return callback


def _command_line(corpus: Path | None, preset: str | None, config: EvalConfig) -> str:
    """A command that reproduces this run, every option spelled out."""
    args = ["semhash", "evaluate"]
    if corpus is not None:
        args.append(str(corpus))
    if preset:
        args += ["--preset", preset]
    args += ["--bits", ",".join(map(str, config.bits)), "--methods", ",".join(config.methods)]
    args += ["--split", config.split, "--seed", str(config.seed)]
    for field, value in asdict(config.model).items():  # --pretrain, --epochs, --variant, ... in that order
        if value is not None:
            args += [f"--{field.replace('_', '-')}", f"{value:g}" if isinstance(value, float) else str(value)]
    preset_config = EvalConfig.from_preset(preset, corpus) if preset else None
    # a preset's own --remove and --encoding are implied; a plain folder's --remove only if any
    if (config.remove if preset_config is None else config.remove != preset_config.remove):
        args += ["--remove", ",".join(config.remove)]
    if preset_config is None or config.encoding != preset_config.encoding:
        args += ["--encoding", config.encoding]
    if config.limit_per_class is not None:
        args += ["--limit-per-class", str(config.limit_per_class)]
    return " ".join(shlex.quote(a) for a in args)


def _config(corpus: Path | None, preset: str | None, remove: tuple[str, ...] | None, encoding: str | None,
            **overrides: Any) -> EvalConfig:
    """The run's config: the preset's (or a plain folder's), then the options given."""
    if preset is not None:
        config = EvalConfig.from_preset(preset, corpus)
    elif corpus is None:
        raise click.UsageError("give a CORPUS folder or file, or --preset")
    else:
        path = corpus.resolve()
        config = EvalConfig(root=corpus, name=(path.stem if path.is_file() else path.name) or "corpus")
    if remove is not None:
        overrides["remove"] = remove
    if encoding is not None:
        overrides["encoding"] = encoding
    return replace(config, **overrides)


def _echo_summary(results: dict[str, Any], out_dir: Path) -> None:
    click.echo(format_table(results))
    ds = results["dataset"]
    click.echo(
        f"\nP@100 in percent; {ds['n_queries']} {ds['split']} queries against {ds['n_database']} documents; "
        f"chance {100 * ds['chance_precision']:.2f}%; {results['total_seconds']:.1f} s."
    )
    click.echo(f"Report written to {out_dir}")


def _presets_epilog() -> str:
    """The list of presets under the command's help, from the registry."""
    lines = ["\b", "Presets (--preset; docs/quality.md describes each):"]
    return "\n".join(lines + [f"  {name}: {preset.help}" for name, preset in PRESET_REGISTRY.items()])


@click.command("evaluate", epilog=_presets_epilog())
@click.argument("corpus", required=False, type=click.Path(path_type=Path))
@click.option("--preset", type=click.Choice(PRESETS), help="Named protocol (listed below); CORPUS, if given, replaces its corpus.")
@click.option("--bits", callback=_int_list, default=",".join(map(str, DEFAULT_BITS)), show_default=True, help="Code lengths, comma-separated multiples of 8.")
@click.option("--methods", callback=_name_list(ALL_METHODS), default=",".join(ALL_METHODS), show_default=True, help="Methods to compare, comma-separated.")
@click.option("--split", type=click.Choice(SPLITS), default="test", show_default=True, help="Query split; tune on 'validation', report 'test'.")
@click.option("--pretrain", type=click.Choice(PRETRAIN_KINDS), default=None, help="semhash model: layer-wise pretraining (default: the model's).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="semhash model: fine-tuning epochs (default: the model's).")
@click.option("--neighbours", type=click.IntRange(min=0), default=None, help="semhash model: reconstruct each document blended with its K TF-IDF nearest neighbours (0: off).")
@click.option("--graph-codes", type=click.FloatRange(min=0), default=None, help="semhash model: weight of the code loss towards bits of the TF-IDF neighbour graph (0: off; default: the model's, 1).")
@click.option("--graph-teacher", type=click.Choice(GRAPH_TEACHERS), default=None, help="semhash model: how the neighbour graph becomes target bits (default: the model's, spectral).")
@click.option("--variant", type=click.Choice(VARIANTS), default=None, help="semhash model: regularised autoencoder variant (default: the model's, denoising).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the model, baselines and tie breaking.")
@click.option("--remove", callback=_name_list(REMOVABLE_PARTS), default=None, help="Parts of mail to strip: headers,footers,quotes (the 20ng preset strips all three, the other presets none).")
@click.option("--encoding", default=None, help="File encoding (default utf-8; latin-1 for the 20NG presets).")
@click.option("--limit-per-class", type=click.IntRange(min=1), default=None, help="Use only the first N documents of each label (per split), for a quick run.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Report folder [default: reports/<name>-<timestamp>].")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def evaluate(
    corpus: Path | None,
    preset: str | None,
    bits: tuple[int, ...],
    methods: tuple[str, ...],
    split: str,
    pretrain: str | None,
    epochs: int | None,
    variant: str | None,
    neighbours: int | None,
    graph_codes: float | None,
    graph_teacher: str | None,
    seed: int,
    remove: tuple[str, ...] | None,
    encoding: str | None,
    limit_per_class: int | None,
    out_dir: Path | None,
    no_plots: bool,
    quiet: bool,
) -> None:
    """Measure retrieval precision of semhash and baselines on a labelled corpus.

    CORPUS is a folder of label folders (CORPUS/<label>/<files>), or of train/ and test/
    folders each holding label folders, or a .jsonl file with "text" and "label" (or
    "labels": [...]) on each line. A document may carry several labels: in a folder, the
    same file (same name, same content) under several label folders. Without train/test,
    documents are split 80/10/10 into database / validation / test with a fixed seed; with
    it, the training documents are the database and the test documents are halved into
    validation and test.

    Every query ranks the database by Hamming distance (ties at random); precision@k and
    MAP count the documents that share a label with the query. Prints a P@100 table and
    writes results.json, report.md and PNG plots to the report folder.

    bm25 and the plots need the `eval` extra (pip install 'semhash[eval]'): without it the
    run is refused before any work starts (or leave bm25 out of --methods, pass --no-plots).

    \b
    Examples:
        semhash evaluate --preset 20ng --bits 32,64 --methods lsh,itq,tfidf --limit-per-class 100
        semhash evaluate --preset 20ng-literature --methods lsh,sth,itq --bits 32
        semhash evaluate corpora/mylabels --split validation --out reports/tuning
    """
    model = ModelOptions(pretrain=pretrain, epochs=epochs, variant=variant, neighbours=neighbours,
                         graph_codes=graph_codes, graph_teacher=graph_teacher)
    try:
        config = _config(corpus, preset, remove, encoding, bits=bits, methods=methods, split=split, seed=seed,
                         limit_per_class=limit_per_class, model=model)
        check_dependencies(config.methods, plots=not no_plots)  # before minutes of training, not after
        if out_dir is None:
            out_dir = Path("reports") / f"{config.name}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
        results = run_evaluation(config, progress=not quiet)
        write_report(results, out_dir, command=_command_line(corpus, preset, config), plots=not no_plots)
    except SemhashError as e:
        raise click.ClickException(str(e)) from e
    _echo_summary(results, out_dir)

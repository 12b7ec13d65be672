"""The report's PNG plots: precision@k and precision-recall, one pair per code length.

matplotlib (the optional ``eval`` extra) is imported here only, when plots are drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .results import result_bits, runs_by_bits

Curve = tuple[str, dict[str, Any], str]  # (label, run, line style)


def _suffix(n_bits: int | None) -> str:
    return f"{n_bits}bits" if n_bits is not None else "references"


def _lengths(results: dict[str, Any]) -> list[int | None]:
    """The code lengths to plot; ``[None]`` (one plot) when no method has a length."""
    return list(result_bits(results)) or [None]


def plot_files(results: dict[str, Any]) -> list[str]:
    """Names of the PNG files :func:`draw_plots` draws for these results."""
    names = []
    for b in _lengths(results):
        names += [f"precision_at_k_{_suffix(b)}.png", f"precision_recall_{_suffix(b)}.png"]
    return names


def _curves(results: dict[str, Any], n_bits: int | None) -> list[Curve]:
    """The hashing methods' runs at ``n_bits`` (solid), then every reference (dashed)."""
    methods = results["methods"].values()
    curves = [(m["label"], runs_by_bits(m).get(n_bits), "-") for m in methods if m["kind"] == "hashing"]
    refs = [(m["label"], m["runs"][0], "--") for m in methods if m["kind"] == "reference"]
    return [c for c in curves if c[1] is not None] + refs


def _finish(plt: Any, fig: Any, ax: Any, path: Path) -> None:
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _precision_at_k(plt: Any, curves: list[Curve], title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, run, style in curves:
        ks = sorted(int(k) for k in run["p_at_k"])
        ax.plot(ks, [run["p_at_k"][str(k)] if str(k) in run["p_at_k"] else run["p_at_k"][k] for k in ks], style, marker=".", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("k (documents retrieved)")
    ax.set_ylabel("precision@k")
    ax.set_title(title)
    _finish(plt, fig, ax, path)


def _precision_recall(plt: Any, curves: list[Curve], title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, run, style in curves:
        pr = run["pr"]
        pts = [(r, p) for r, p in zip(pr["recall"], pr["precision"]) if r is not None and p is not None]
        if pts:
            suffix_label = " (Hamming radius 0..n)" if "radius" in pr else " (by rank)"
            ax.plot(*zip(*pts), style, marker=".", label=label + suffix_label)
    ax.set_xscale("log")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(title)
    _finish(plt, fig, ax, path)


def draw_plots(results: dict[str, Any], out_dir: Path) -> list[str]:
    """Draw :func:`plot_files` into ``out_dir``; return their names."""
    import matplotlib  # the optional `eval` extra, only when plots are drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after choosing the headless backend

    written = []
    for b in _lengths(results):
        curves = _curves(results, b)
        at_k, pr = f"precision_at_k_{_suffix(b)}.png", f"precision_recall_{_suffix(b)}.png"
        name = results["config"].get("name", "")
        _precision_at_k(plt, curves, f"{name}: precision@k" + (f", {b}-bit codes" if b else ""), out_dir / at_k)
        _precision_recall(plt, curves, "precision-recall" + (f", {b}-bit codes, Hamming ball retrieval" if b else ""),
                          out_dir / pr)
        written += [at_k, pr]
    return written

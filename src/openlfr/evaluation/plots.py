"""Plots as PNG files (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openlfr.errors import ConfigError


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise ConfigError(f"folder for the plot does not exist: {path.parent}")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def det_plot(
    path: Path,
    false_positive: np.ndarray,
    false_negative: np.ndarray,
    *,
    title: str,
    xlabel: str = "FPIR (false positive identification rate)",
    ylabel: str = "FNIR (false negative identification rate)",
    marks: dict[str, tuple[float, float]] | None = None,
) -> Path:
    """A DET curve on log-log axes; `marks` labels operating points {label: (x, y)}."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    x, y = np.asarray(false_positive, float), np.asarray(false_negative, float)
    keep = (x > 0) & (y > 0)  # zeros have no place on log axes
    if keep.any():
        # x up, then y down: points sharing an x draw one step, not a spike.
        order = np.lexsort((-y[keep], x[keep]))
        ax.step(x[keep][order], y[keep][order], where="post", lw=1.5)
    for label, (mx, my) in (marks or {}).items():
        if mx > 0 and my > 0:
            ax.plot([mx], [my], "o", ms=5)
            ax.annotate(label, (mx, my), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, path)


def group_rate_plot(
    path: Path,
    groups: dict[str, tuple[float | None, float, float]],
    *,
    title: str,
    ylabel: str = "FPIR",
) -> Path:
    """One bar per group with its 95% interval: {name: (rate, ci_low, ci_high)}."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(groups) + 2), 4))
    names = list(groups)
    rates = [groups[n][0] or 0.0 for n in names]
    low = [max(0.0, r - groups[n][1]) for n, r in zip(names, rates, strict=True)]
    high = [max(0.0, groups[n][2] - r) for n, r in zip(names, rates, strict=True)]
    ax.bar(names, rates, yerr=[low, high], capsize=4, color="tab:blue", alpha=0.8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, path)

"""The equitability report: how error rates differ between demographic groups at the
deployment threshold, from the evaluation commands' JSON (`openlfr evaluate demographics
--json`, `openlfr evaluate identification --json`): FPIR and FNIR per group with Wilson 95%
intervals, the highest/lowest ratio, charts with the intervals, and DET curves; as HTML and
PDF.

Reading the JSON files (rather than running the evaluations here) keeps the slow, data-heavy
measurement apart from publishing, and lets the published figures be traced to one file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openlfr.errors import ConfigError
from openlfr.reports.charts import _png, plt
from openlfr.reports.columns import Column
from openlfr.reports.document import Document, Figure, Table, Text, to_html, to_json
from openlfr.reports.pdf import to_pdf

# Thresholds print with two decimals in deployment records: closer than this is the same.
THRESHOLD_TOLERANCE = 5e-4

GROUP_COLUMNS = (
    Column("group", "Group", "text"),
    Column("n", "Non-mated searches", "int"),
    Column("false_alarms", "False alarms", "int"),
    Column("fpir", "FPIR", "text"),
    Column("fpir_ci", "FPIR 95% CI", "text"),
    Column("n_mated", "Mated searches", "int"),
    Column("fnir", "FNIR", "text"),
    Column("fnir_ci", "FNIR 95% CI", "text"),
    Column("note", "Note", "text"),
)
LEVEL_COLUMNS = (
    Column("level", "Operating point", "text"),
    Column("threshold", "Threshold", "text"),
    Column("fpir", "FPIR measured", "text"),
    Column("fnir", "FNIR", "text"),
)

HOW_TO_READ = [
    "FPIR (false positive identification rate) is the share of searches of people who are "
    "not on the watchlist that still raised an alert: the chance that a passer-by of this "
    "group is wrongly flagged. FNIR (false negative identification rate) is the share of "
    "searches of people who are on the watchlist that were missed.",
    "Each rate comes with a 95% confidence interval (Wilson): the range the true rate most "
    "likely lies in, given how many searches were made. A wide interval means few searches; "
    "two groups whose intervals overlap a lot cannot be said to differ.",
    "The max/min ratio divides the highest group rate by the lowest. 1.0 means equal rates; "
    "the ratio leaves out groups with too few searches to say anything, and is undefined when "
    "a group had no errors at all.",
    "These figures come from test sets of photographs, not from deployments. They show how "
    "this model and threshold treat the groups in those sets; the groups, labels and image "
    "quality of a street can differ.",
]


@dataclass
class EquitabilityReport:
    document: Document
    payload: dict

    def write(self, out: str | Path) -> list[Path]:
        """equitability-report.{html,pdf,json} and the charts as PNG files in `out`."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "equitability-report.html": to_html(self.document).encode(),
            "equitability-report.pdf": to_pdf(self.document),
            "equitability-report.json": to_json(self.payload).encode(),
        }
        for i, s in enumerate(x for x in self.document.sections if isinstance(x, Figure)):
            files[f"equitability-chart-{i + 1}.png"] = s.png
        written = []
        for name, data in files.items():
            (out / name).write_bytes(data)
            written.append(out / name)
        return written


# -- inputs -----------------------------------------------------------------------------------
def load_evaluation(path: str | Path, kind: str) -> dict:
    """One evaluation JSON file (`kind`: "demographics" or "identification"), checked."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not a JSON file: {exc}") from None
    need = {"demographics": ("groups", "threshold", "model"), "identification": ("fnir", "model")}
    missing = [k for k in need[kind] if not isinstance(data, dict) or k not in data]
    if missing:
        raise ConfigError(
            f"{path} is not the JSON of `openlfr evaluate {kind}` (missing {', '.join(missing)})"
        )
    if (kind == "demographics" and not isinstance(data["groups"], dict)) or not data.get("model"):
        raise ConfigError(f"{path}: groups must be an object and model a name")
    data["source"] = path.name
    return data


def load_png(path: str | Path) -> bytes:
    data = Path(path).read_bytes() if Path(path).is_file() else b""
    if not data.startswith(b"\x89PNG"):
        raise ConfigError(f"--det {path}: not a PNG file")
    return data


# -- formatting -------------------------------------------------------------------------------
def pct(rate: float | None) -> str:
    """A rate as a percentage with enough digits for small FPIRs."""
    if rate is None or not np.isfinite(rate):
        return "—"
    return f"{rate * 100:.2f}%" if rate >= 0.001 or rate == 0 else f"{rate * 100:.3f}%"


def interval(low: float | None, high: float | None) -> str:
    return "—" if low is None or high is None else f"{pct(low)} – {pct(high)}"


def ratio_text(ratio: float | None) -> str:
    return "undefined (a group had no errors, or too few groups)" if ratio is None else (
        f"{ratio:.2f}"
    )  # fmt: skip


# -- the report -------------------------------------------------------------------------------
def _group_rows(data: dict) -> list[dict]:
    min_group = int(data.get("ratio_min_group") or 0)
    rows = []
    for name, g in data["groups"].items():
        small = [
            what
            for what, n in (("non-mated", g.get("n", 0)), ("mated", g.get("n_mated")))
            if n is not None and 0 < n < min_group
        ]
        rows.append(
            {
                "group": str(name),
                "n": g.get("n"),
                "false_alarms": g.get("false_alarms"),
                "fpir": pct(g.get("fpir")) if g.get("n") else "—",
                "fpir_ci": interval(g.get("ci_low"), g.get("ci_high")) if g.get("n") else "—",
                "n_mated": g.get("n_mated"),
                "fnir": pct(g.get("fnir")) if "fnir" in g else "—",
                "fnir_ci": interval(g.get("fnir_ci_low"), g.get("fnir_ci_high"))
                if "fnir" in g
                else "—",
                "note": f"fewer than {min_group} {' and '.join(small)} searches: left out of "
                "the ratio"
                if small
                else "",
            }
        )
    return rows


def group_chart(data: dict) -> bytes:
    """Bars of FPIR (and FNIR where measured) per group with their 95% intervals. Groups too
    small for the ratio are left out (their intervals, near [0, 1], would flatten the rest);
    the table lists them."""
    min_group = int(data.get("ratio_min_group") or 0)
    groups = {
        k: g
        for k, g in data["groups"].items()
        if max(g.get("n") or 0, g.get("n_mated") or 0) >= min_group
    } or data["groups"]
    names = list(groups)
    panels = [("fpir", "ci_low", "ci_high", "n", "FPIR (false alerts)", "#c0392b")]
    if any("fnir" in g for g in groups.values()):
        panels.append(
            ("fnir", "fnir_ci_low", "fnir_ci_high", "n_mated", "FNIR (misses)", "#0b3d91")
        )
    fig, axes = plt.subplots(
        1, len(panels), figsize=(max(5.0, 1.3 * len(names) + 2) * len(panels) * 0.8, 3.6)
    )
    axes = np.atleast_1d(axes)
    for ax, (key, lo, hi, nkey, label, colour) in zip(axes, panels, strict=True):
        rates, err_lo, err_hi, alphas, ticks = [], [], [], [], []
        for name in names:
            g = groups[name]
            n = g.get(nkey) or 0
            r = g.get(key) if n else None
            rates.append(r or 0.0)
            err_lo.append(max(0.0, (r or 0.0) - g.get(lo, 0.0)) if r is not None else 0.0)
            err_hi.append(max(0.0, g.get(hi, 0.0) - (r or 0.0)) if r is not None else 0.0)
            alphas.append(0.35 if n < min_group else 0.9)
            ticks.append(f"{name}\nn={n:,}")
        xs = np.arange(len(names))
        bars = ax.bar(xs, [r * 100 for r in rates], color=colour)
        for bar, a in zip(bars, alphas, strict=True):
            bar.set_alpha(a)
        whiskers = [np.array(err_lo) * 100, np.array(err_hi) * 100]
        ax.errorbar(xs, [r * 100 for r in rates], yerr=whiskers, fmt="none", ecolor="#222",
                    capsize=4, lw=1)  # fmt: skip
        if key == "fpir" and data.get("overall_fpir") is not None:
            ax.axhline(data["overall_fpir"] * 100, ls="--", lw=1, color="#555",
                       label=f"all searches {pct(data['overall_fpir'])}")  # fmt: skip
            ax.legend(frameon=False, fontsize=8)
        ax.set_xticks(xs, ticks, fontsize=8)
        ax.set_ylabel(f"{label}, %")
        ax.set_title(f"{label} by {data.get('group_by', 'group')}", fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(
        f"Threshold {data['threshold']:.4f} · bars: rate · whiskers: 95% interval · pale: "
        f"fewer than {min_group} searches (groups too small for both: table only)",
        fontsize=9,
    )
    fig.tight_layout()
    return _png(fig)


def _at_threshold(det: dict, t: float) -> tuple[float, float] | None:
    """(FPIR, FNIR) of the DET point at the smallest threshold >= t."""
    ts = np.asarray(det.get("threshold", []), float)
    if not len(ts):
        return None
    i = int(np.searchsorted(ts, t, side="left"))
    if i >= len(ts):
        return 0.0, float(det["fnir"][-1])
    return float(det["fpir"][i]), float(det["fnir"][i])


def det_chart(ident: dict, threshold: float | None) -> bytes | None:
    """The DET curve from the identification JSON's points, the deployment threshold marked."""
    det = ident.get("det")
    if not det or not det.get("fpir"):
        return None
    x, y = np.asarray(det["fpir"], float), np.asarray(det["fnir"], float)
    keep = (x > 0) & (y > 0)
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    order = np.lexsort((-y[keep], x[keep]))
    ax.step(x[keep][order], y[keep][order], where="post", lw=1.5, color="#0b3d91")
    if threshold is not None and (point := _at_threshold(det, threshold)) and min(point) > 0:
        ax.plot([point[0]], [point[1]], "o", color="#c0392b")
        ax.annotate(f"threshold {threshold:.3f}", point, textcoords="offset points",
                    xytext=(6, 6), fontsize=8)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("FPIR (false positive identification rate)")
    ax.set_ylabel("FNIR (false negative identification rate)")
    ax.set_title(f"Open-set DET, N={ident.get('n_gallery', '?')}, {ident['model']}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig)


def _check(demographics: list[dict], ident: dict | None, threshold: float | None) -> str:
    if not demographics:
        raise ConfigError("give at least one --demographics file")
    models = {d["model"] for d in demographics} | ({ident["model"]} if ident else set())
    if len(models) > 1:
        raise ConfigError(
            f"the evaluations used different models ({', '.join(sorted(models))}): one report "
            "covers one model"
        )
    if threshold is not None:
        for d in demographics:
            if abs(float(d["threshold"]) - threshold) > THRESHOLD_TOLERANCE:
                raise ConfigError(
                    f"{d['source']} was measured at threshold {d['threshold']:.4f}, not the "
                    f"deployment threshold {threshold:.4f}: rerun `openlfr evaluate "
                    f"demographics --threshold {threshold:g} --json ...`"
                )
    return models.pop()


def equitability_report(
    demographics: list[dict],
    identification: dict | None = None,
    det_images: list[tuple[str, bytes]] | None = None,
    threshold: float | None = None,
) -> EquitabilityReport:
    """The report from `load_evaluation` results. `threshold`: the deployment threshold the
    demographics files must have been measured at (checked); default: theirs."""
    model = _check(demographics, identification, threshold)
    thresholds = sorted({round(float(d["threshold"]), 6) for d in demographics})
    shown = threshold if threshold is not None else thresholds[0]
    at = ", ".join(f"{t:.4f}" for t in thresholds)
    sections: list = [
        Text(
            "Summary",
            [
                f"Model {model}. Threshold {at}"
                + (" (the deployment threshold)." if threshold is not None else ".")
                + " Error rates are given per demographic group with 95% confidence "
                "intervals, from the evaluation files listed at the end.",
                *[
                    f"By {d.get('group_by', 'group')}: highest/lowest FPIR ratio "
                    f"{ratio_text(d.get('ratio'))}"
                    + (
                        f"; FNIR ratio {ratio_text(d.get('fnir_ratio'))}"
                        if any("fnir" in g for g in d["groups"].values())
                        else ""
                    )
                    + "."
                    for d in demographics
                ],
            ],
        ),
        Text("How to read this report", HOW_TO_READ),
    ]
    for d in demographics:
        by = d.get("group_by", "group")
        source = d.get("threshold_source", "")
        why = {"given": "the threshold given to the evaluation"}.get(
            source, f"the threshold that gives {source}" if source else "as evaluated"
        )  # fmt: skip
        sections.append(
            Table(
                f"Error rates by {by} ({d['source']})",
                GROUP_COLUMNS,
                _group_rows(d),
                note=(
                    f"Threshold {d['threshold']:.4f} ({why}); watchlist: "
                    f"{d.get('watchlist', 'n/a')} ({d.get('n_gallery', '?')} enrolled); "
                    f"FPIR over all searches {pct(d.get('overall_fpir'))}; highest/lowest FPIR "
                    f"ratio {ratio_text(d.get('ratio'))}, FNIR ratio "
                    f"{ratio_text(d.get('fnir_ratio'))}; {d.get('unlabelled', 0)} searches "
                    f"without a label; {d.get('missed_detections', 0)} images with no face "
                    "found (counted as non-alarms, or misses when mated)."
                ),
            )
        )
        sections.append(
            Figure(
                f"FPIR and FNIR by {by}, with 95% intervals",
                group_chart(d),
                f"Bar chart of the error rates per {by} with confidence whiskers",
            )
        )
    if identification is not None:
        rows = [
            {
                "level": f"FPIR {level}",
                "threshold": _num(identification.get("threshold", {}).get(level)),
                "fpir": pct(identification.get("fpir_measured", {}).get(level)),
                "fnir": pct(fnir),
            }
            for level, fnir in identification["fnir"].items()
        ]
        point = _at_threshold(identification.get("det") or {}, shown)
        if point is not None:
            rows.insert(0, {"level": "deployment threshold" if threshold is not None
                             else "this report's threshold", "threshold": _num(shown),
                             "fpir": pct(point[0]), "fnir": pct(point[1])})  # fmt: skip
        sections.append(
            Table(
                "Open-set identification, all groups together",
                LEVEL_COLUMNS,
                rows,
                note=f"{identification.get('n_gallery', '?')} enrolled, "
                f"{identification.get('n_mated', '?')} mated and "
                f"{identification.get('n_nonmated', '?')} non-mated searches "
                f"({identification['source']}).",
            )
        )
        png = det_chart(identification, shown)
        if png is not None:
            sections.append(
                Figure("DET curve", png, "Log-log curve of FNIR against FPIR over thresholds")
            )
    for name, png in det_images or []:
        sections.append(Figure(f"DET curve ({name})", png, f"DET curve image {name}"))
    sources = [d["source"] for d in demographics] + (
        [identification["source"]] if identification else []
    )
    sections.append(Text("Sources", [", ".join(sources)]))
    doc = Document(
        "Live Facial Recognition: equitability report",
        f"Error rates by demographic group · model {model} · threshold {at}",
        sections,
    )
    payload = {
        "model": model,
        "threshold": threshold if threshold is not None else thresholds,
        "demographics": demographics,
        "identification": {k: v for k, v in identification.items() if k != "det"}
        if identification
        else None,
    }
    return EquitabilityReport(doc, payload)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


__all__ = ["EquitabilityReport", "equitability_report", "load_evaluation", "load_png"]

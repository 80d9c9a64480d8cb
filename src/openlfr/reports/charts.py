"""Charts for the annual report (matplotlib, drawn off-screen to PNG bytes)."""

from __future__ import annotations

import io
from collections import OrderedDict
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display: reports are written by services and the CLI
import matplotlib.pyplot as plt  # noqa: E402


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _months(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def alerts_over_time(rows: list[dict], start: date, end: date) -> bytes:
    """Alerts and false alerts per month of the period (bars side by side)."""
    months = OrderedDict((m, [0, 0]) for m in _months(start, end))
    for r in rows:
        key = r["date"].strftime("%Y-%m")
        if key in months:
            months[key][0] += int(r["alerts"])
            months[key][1] += int(r["false_alerts"])
    labels = list(months)
    xs = range(len(labels))
    fig, ax = plt.subplots(figsize=(9, 3.4))
    ax.bar([x - 0.2 for x in xs], [v[0] for v in months.values()], 0.4, label="Alerts",
           color="#0b3d91")  # fmt: skip
    ax.bar([x + 0.2 for x in xs], [v[1] for v in months.values()], 0.4, label="False alerts",
           color="#c0392b")  # fmt: skip
    ax.set_xticks(list(xs), labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("count")
    ax.set_title("Alerts and false alerts per month")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def false_alert_rate_per_deployment(rows: list[dict]) -> bytes:
    """False alert rate (false alerts / faces seen) of each deployment, in percent."""
    labels = [f"{r['date']:%d/%m} {r['location'][:18]}" for r in rows]
    values = [
        (r["false_alert_rate"] or 0.0) * 100 if r["false_alert_rate"] is not None else 0.0
        for r in rows
    ]
    fig, ax = plt.subplots(figsize=(9, max(2.4, 0.28 * len(rows) + 1.2)))
    ys = range(len(rows))
    ax.barh(list(ys), values, color="#c0392b")
    ax.set_yticks(list(ys), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("false alert rate (% of faces seen)")
    ax.set_title("False alert rate per deployment")
    ax.spines[["top", "right"]].set_visible(False)
    if not rows:
        ax.text(0.5, 0.5, "no deployments in this period", ha="center", transform=ax.transAxes)
    return _png(fig)

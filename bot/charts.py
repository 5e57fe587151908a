"""The digest chart: followers and engagement over the period, one line per account, as a PNG.

matplotlib's object API on the Agg canvas (no pyplot, no display, no global state), so it can draw in
a worker thread while the event loop serves Slack.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

# Distinct, colour-blind-friendly line colours (Okabe-Ito), one per account in report order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
WIDTH, HEIGHT, DPI = 10.0, 6.0, 100  # 1000 x 600 pixels


@dataclass(frozen=True)
class Line:
    label: str  # "X · Acme Marketing"
    followers: Sequence[tuple[datetime, float]]
    engagement: Sequence[tuple[datetime, float]]
    followers_name: str = "Followers"  # the platform's own word (YouTube: Subscribers)


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _number(value: float, _pos=None) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:,.0f}"


def growth_chart(lines: Sequence[Line], start: datetime, end: datetime, tz: str, title: str) -> bytes:
    """Two panels sharing the time axis: followers (top) and engagement on posts sent with Picmim
    (bottom). Line i has colour `color(i)` in both; an account without figures draws no line."""
    # matplotlib is imported on the first chart, not at start-up: it is ~40 MB a process would carry for
    # nothing until a digest is due.
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    zone = ZoneInfo(tz)
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    followers_ax, engagement_ax = figure.subplots(2, 1, sharex=True)
    for index, line in enumerate(lines):
        for ax, points in ((followers_ax, line.followers), (engagement_ax, line.engagement)):
            if points:
                ax.plot([t for t, _ in points], [v for _, v in points], color=color(index), linewidth=2.5,
                        marker="o", markersize=4, label=line.label, solid_capstyle="round")
    other_names = sorted({line.followers_name for line in lines if line.followers} - {"Followers"})
    followers_ax.set_title(" / ".join(["Followers", *other_names]), loc="left", fontsize=11)  # YouTube: Subscribers
    engagement_ax.set_title("Engagement on posts sent with Picmim (likes, comments, shares…)", loc="left",
                            fontsize=11)
    for ax in (followers_ax, engagement_ax):
        ax.grid(True, color="#dddddd", linewidth=0.8)
        ax.yaxis.set_major_formatter(FuncFormatter(_number))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if not ax.lines:
            ax.text(0.5, 0.5, "No figures for this period", transform=ax.transAxes, ha="center", va="center",
                    color="#777777")
    engagement_ax.set_xlim(start, end)
    engagement_ax.xaxis.set_major_locator(mdates.AutoDateLocator(tz=zone, maxticks=8))
    engagement_ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b", tz=zone))
    handles, labels = [], []
    for ax in (followers_ax, engagement_ax):
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if handles:
        figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), frameon=False)
    figure.suptitle(title, fontsize=13, x=0.01, ha="left")
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()

"""The best-times heat map: engagement by weekday and hour, one panel per account, as a PNG.

matplotlib's object API on the Agg canvas, like bot/charts.py (no pyplot, no global state), so it can draw in a
worker thread while the event loop serves Slack.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.services.best_times import SHORT_WEEKDAYS, BestTimes

DPI = 100
PANEL_HEIGHT = 3.4  # inches per account


def heat_map(accounts: Sequence[BestTimes], title: str) -> bytes:
    """Rows Monday to Sunday, columns 00 to 23 (local hours), darker where posts got more engagement; the best
    slot of each account framed and named under its panel. Hours without posts stay blank."""
    # Imported on the first chart, not at start-up (see bot/charts.py).
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    figure = Figure(figsize=(11.0, 1.0 + PANEL_HEIGHT * len(accounts)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(accounts), 1, squeeze=False)[:, 0]
    for ax, best in zip(axes, accounts, strict=True):
        grid = np.array([[np.nan if v is None else v for v in day] for day in best.engagement], dtype=float)
        image = ax.imshow(np.ma.masked_invalid(grid), cmap="YlOrRd", aspect="auto", interpolation="nearest")
        ax.set_yticks(range(7), SHORT_WEEKDAYS)
        ax.set_xticks(range(0, 24, 2), [f"{h:02d}:00" for h in range(0, 24, 2)], fontsize=8)
        ax.set_xticks(np.arange(-0.5, 24, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, 7, 1), minor=True)
        ax.grid(which="minor", color="#eeeeee", linewidth=0.6)
        ax.tick_params(which="minor", length=0)
        ax.set_title(f"{best.label}: {best.posts} posts ({best.timezone})", loc="left", fontsize=11)
        colorbar = figure.colorbar(image, ax=ax, shrink=0.9)
        colorbar.set_label("Interactions per post", fontsize=9)
        if best.top:
            top = best.top[0]
            ax.add_patch(Rectangle((top.hour - 0.5, top.weekday - 0.5), 1, 1, fill=False, edgecolor="#0072B2",
                                   linewidth=2.5))
            ax.set_xlabel(f"Best: {top.in_words()} ({top.engagement:,.0f} interactions per post)", fontsize=10)
    figure.suptitle(title, fontsize=13, x=0.01, ha="left")
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()

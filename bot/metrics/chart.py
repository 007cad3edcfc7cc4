"""The summary chart: opened vs resolved per day, and SLA attainment, as a PNG."""

from __future__ import annotations

import io
from datetime import date


def daily_chart(
    days: list[date], opened: list[int], resolved: list[int], attainment: list[float | None]
) -> bytes:
    """Bars for opened and resolved cases, a line for SLA attainment (% met), one PNG.

    Drawn with matplotlib's object API, not pyplot: no global figure state, so two jobs may
    draw at the same time, and no display is needed. Imported on the first chart, not with
    the desk: matplotlib takes longer to import than most commands take to run."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.2), dpi=100)
    counts = figure.subplots()
    positions = list(range(len(days)))
    width = 0.4
    counts.bar([p - width / 2 for p in positions], opened, width, label="opened", color="#4a90d9")
    counts.bar(
        [p + width / 2 for p in positions], resolved, width, label="resolved", color="#5cb85c"
    )
    counts.set_ylabel("cases")
    counts.set_xticks(positions, [day.strftime("%d %b") for day in days], rotation=45, fontsize=7)
    percent = counts.twinx()
    measured = [
        (p, value * 100)
        for p, value in zip(positions, attainment, strict=True)
        if value is not None
    ]
    if measured:
        xs, ys = zip(*measured, strict=True)
        percent.plot(xs, ys, color="#d9534f", marker="o", label="SLA met %")
    percent.set_ylim(0, 105)
    percent.set_ylabel("SLA met %")
    handles = counts.get_legend_handles_labels()[0] + percent.get_legend_handles_labels()[0]
    counts.legend(handles=handles, loc="upper left", fontsize=7)
    counts.set_title(f"Last {len(days)} days", fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()

"""The SVG geometry of the overview's charts. Knows nothing of Flask."""

from __future__ import annotations

CHART = {"width": 640, "height": 240, "left": 44, "bottom": 36, "top": 12}


def _ticks(top: int) -> list[int]:
    """Return up to five round values from 0 to at least `top`, for a chart's axis."""
    if top <= 0:
        return [0]
    raw = top / 4
    step = next(s * 10**e for e in range(0, 9) for s in (1, 2, 5) if s * 10**e >= raw)
    return [step * n for n in range(0, 5) if step * n <= top + step - 1][:5]


def stacked_chart(weeks: list[str], series: list[tuple[str, str, list[int]]]) -> dict:
    """Return the geometry of a stacked bar chart (one bar per week, one segment per series)."""
    totals = [sum(counts[n] for _, _, counts in series) for n in range(len(weeks))]
    ticks = _ticks(max(totals, default=0))
    scale_top = max(ticks[-1], 1)
    plot_height = CHART["height"] - CHART["bottom"] - CHART["top"]
    slot = (CHART["width"] - CHART["left"]) / len(weeks)
    bars = []
    for n, week in enumerate(weeks):
        y = CHART["height"] - CHART["bottom"]
        segments = []
        for index, (series_id, label, counts) in enumerate(series):
            height = counts[n] / scale_top * plot_height
            y -= height
            segments.append(
                {"series": series_id, "index": index, "label": label, "count": counts[n], "y": y, "h": height}
            )
        bars.append(
            {"week": week, "x": CHART["left"] + n * slot + slot * 0.15, "w": slot * 0.7, "segments": segments}
        )
    axis = [{"value": t, "y": CHART["height"] - CHART["bottom"] - t / scale_top * plot_height} for t in ticks]
    return {
        **CHART,
        "bars": bars,
        "axis": axis,
        "series": [(i, label) for i, label, _ in series],
        "totals": totals,
    }


def small_chart(weeks: list[str], label: str, counts: list[int]) -> dict:
    """Return the geometry of a small bar chart of one topic's weekly counts."""
    width, height, base = 240, 64, 60
    top = max(max(counts, default=0), 1)
    slot = width / len(weeks)
    bars = [
        {"week": week, "count": count, "x": n * slot + 2, "w": slot - 4, "h": count / top * (base - 4)}
        for n, (week, count) in enumerate(zip(weeks, counts, strict=True))
    ]
    for bar in bars:
        bar["y"] = base - bar["h"]
    return {
        "label": label,
        "width": width,
        "height": height,
        "base": base,
        "bars": bars,
        "top": max(counts, default=0),
    }

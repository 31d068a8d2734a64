"""The leaderboard page: an SVG chart of strengths with interval bars per model, and the table."""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime

from .leaderboard import leaderboard_cached
from .leaderboard_examples import leaderboard_examples
from .selectors import vote_weighting_summary

# Chart geometry (SVG user units).
CHART_WIDTH = 720
LABEL_WIDTH = 220
ROW_HEIGHT = 30
MARGIN_TOP = 24
MARGIN_BOTTOM = 30
PLOT_RIGHT_PAD = 20


def chart_geometry(model_board: dict[str, Any]) -> dict[str, Any]:
    """Pixel positions for one model's chart, so the template only draws."""
    # Only pipelines with votes have a strength to draw; the others are listed in the table.
    rows = [row for row in model_board["pipelines"] if row["strength"] is not None]
    low = min([row["ci_low"] for row in rows] + [0.0])
    high = max([row["ci_high"] for row in rows] + [0.0])
    span = (high - low) or 1.0
    low, high = low - span * 0.05, high + span * 0.05
    plot_width = CHART_WIDTH - LABEL_WIDTH - PLOT_RIGHT_PAD

    def x(value: float) -> float:
        return round(LABEL_WIDTH + (value - low) / (high - low) * plot_width, 1)

    bars = []
    for i, row in enumerate(rows):
        y = MARGIN_TOP + i * ROW_HEIGHT + ROW_HEIGHT / 2
        bars.append(
            {
                "label": f"#{row['rank']} {row['name']} v{row['version']}",
                "y": y,
                "x_low": x(row["ci_low"]),
                "x_high": x(row["ci_high"]),
                "x": x(row["strength"]),
                "row": row,
            }
        )
    height = MARGIN_TOP + len(rows) * ROW_HEIGHT + MARGIN_BOTTOM
    axis_y = height - MARGIN_BOTTOM + 4
    ticks = [{"x": x(value), "label": f"{value:+.2f}"} for value in (low + span * 0.05, 0.0, high - span * 0.05)]
    return {
        "width": CHART_WIDTH,
        "height": height,
        "label_width": LABEL_WIDTH,
        "plot_right": CHART_WIDTH - PLOT_RIGHT_PAD,
        "zero_x": x(0.0),
        "axis_y": axis_y,
        "ticks": ticks,
        "bars": bars,
    }


def separations(model_board: dict[str, Any]) -> list[dict[str, Any]]:
    """The pairs the data tells apart, with names, for the page's short list."""
    names = {row["id"]: f"{row['name']} v{row['version']}" for row in model_board["pipelines"]}
    return [
        {**difference, "higher_name": names[difference["higher"]], "lower_name": names[difference["lower"]]}
        for difference in model_board["differences"]
        if difference["separated"]
    ]


# The Elo-like scale Chatbot Arena shows: 400 points per factor 10 in the odds, 1000 at the
# model's mean. Only a change of units of the same fit: it claims nothing the strengths do not.
ELO_POINTS_PER_LOG_ODDS = 400 / math.log(10)
ELO_CENTRE = 1000


def elo(value: float | None) -> int | None:
    return None if value is None else round(ELO_CENTRE + ELO_POINTS_PER_LOG_ODDS * value)


def with_elo(model_board: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**row, "elo": elo(row["strength"]), "elo_low": elo(row["ci_low"]), "elo_high": elo(row["ci_high"])}
        for row in model_board["pipelines"]
    ]


def with_examples(model_board: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pipeline row with its example pairs (retired pairs only: leaderboard_examples)."""
    examples = leaderboard_examples(model_name=model_board["model"], pipeline_ids=[row["id"] for row in rows])
    return [{**row, "examples": examples.get(row["id"], [])} for row in rows]


def leaderboard_page(request: HttpRequest) -> HttpResponse:
    board = leaderboard_cached()
    models = [
        {
            **model,
            "pipelines": with_examples(model, with_elo(model)),
            "chart": chart_geometry(model),
            "separations": separations(model),
        }
        for model in board["models"]
    ]
    for model in models:
        model["has_examples"] = any(row["examples"] for row in model["pipelines"])
    return render(
        request,
        "ratings/leaderboard.html",
        {
            "models": models,
            "computed_at": parse_datetime(board["computed_at"]),
            "method": board["method"],
            "defence": vote_weighting_summary(),
        },
    )

"""The benches' crowd: how the filled votes and ratings are drawn (SQL fragments for the fills,
written for cursor.execute with parameters: a modulo is `%%`).

A modelled crowd by default: every pair has a better image and every image a true score, nine
raters in ten are honest (they pick the better image, or rate within one point of the true
score, four times in five, and answer at random otherwise) and one in ten answers at random.
Trust then separates the two kinds and settles, as with a real crowd, so a periodic recompute
has little to redo.

`random_crowd=True` draws every answer at random (what the benches did before 2026-12-02): no
rater agrees with the consensus more than chance, every score hovers at the trust threshold,
and each recompute's exclusions move thousands of raters: the worst case for the incremental
trust recompute, kept to measure it.
"""

from __future__ import annotations

HONEST_RATE = 0.8  # how often an honest rater gives the crowd's answer
SPAMMER_EVERY = 10  # rater index % SPAMMER_EVERY == 0: answers at random

_ANY_CHOICE = "(ARRAY['left', 'right', 'tie', 'both_bad'])[1 + floor(random() * 4)::int]"


def vote_choice(*, rater_index: str, left_better: str, random_crowd: bool) -> str:
    """A SQL expression for one arena vote's choice, given SQL for the rater's index (0-based)
    and for whether the pair's left image is the better one."""
    if random_crowd:
        return _ANY_CHOICE
    return (
        f"CASE WHEN ({rater_index}) %% {SPAMMER_EVERY} <> 0 AND random() < {HONEST_RATE} "
        f"THEN CASE WHEN {left_better} THEN 'left' ELSE 'right' END ELSE {_ANY_CHOICE} END"
    )


def image_rating(*, rater_index: str, true_score: str, random_crowd: bool) -> str:
    """A SQL expression for one single-image rating (1-10), given SQL for the rater's index and
    for the image's true score (1-10)."""
    uniform = "(1 + floor(random() * 10))::int"
    if random_crowd:
        return uniform
    near = f"greatest(1, least(10, ({true_score}) + floor(random() * 3)::int - 1))"
    honest = f"({rater_index}) %% {SPAMMER_EVERY} <> 0 AND random() < {HONEST_RATE}"
    return f"CASE WHEN {honest} THEN {near} ELSE {uniform} END"

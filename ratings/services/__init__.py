"""Writes of the ratings app: judging pairs (own and arena) and rater trust."""

from __future__ import annotations

from .errors import RatingError
from .trust import (
    rater_trust_recompute,
    rater_trust_recompute_all,
    rater_trust_recompute_changed,
    rater_trust_set_override,
)
from .voting import (
    Judgement,
    arena_next,
    arena_pairs_retire,
    arena_skip,
    arena_undo,
    arena_vote,
    judgement_from_horde,
    own_pair_vote,
    own_reward,
)

__all__ = [
    "Judgement",
    "RatingError",
    "arena_next",
    "arena_pairs_retire",
    "arena_skip",
    "arena_undo",
    "arena_vote",
    "judgement_from_horde",
    "own_pair_vote",
    "own_reward",
    "rater_trust_recompute",
    "rater_trust_recompute_all",
    "rater_trust_recompute_changed",
    "rater_trust_set_override",
]

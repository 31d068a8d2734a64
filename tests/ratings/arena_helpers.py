"""Answering arena pairs the way a simulated rater would, through the real services.

A check item is answered by what the rater knows: an honest rater gives a gold pair its
expected answer and a control image its asked rating; a rigger cannot tell check items from
real pairs, so they answer every pair by their rule (e.g. always the image of one pipeline).
"""

from __future__ import annotations

import datetime as dt

from ratings.models import ControlImage, GoldPair, PairAssignment, Vote
from ratings.services import Judgement, arena_vote

from .conftest import shown_pair


def side_of(assignment: PairAssignment, image_id) -> str:
    return "left" if assignment.left_image_id == image_id else "right"


def pipeline_side(assignment: PairAssignment, pipeline_id: int) -> str:
    """The side on which this rater sees the image of `pipeline_id`."""
    left_pipeline = assignment.left_image.job.pipeline_id
    return "left" if left_pipeline == pipeline_id else "right"


def honest_judgement(assignment: PairAssignment, *, preferred_side: str) -> Judgement:
    """A check item gets its known answer; any other pair the rater's own preference."""
    gold = GoldPair.objects.filter(request=assignment.request, active=True).first()
    if gold is not None:
        if gold.expected_choice in (Vote.Choice.LEFT, Vote.Choice.RIGHT):
            position = 0 if gold.expected_choice == Vote.Choice.LEFT else 1
            return Judgement(choice=side_of(assignment, shown_pair(assignment.request)[position].id))
        return Judgement(choice=gold.expected_choice)
    control = ControlImage.objects.filter(image__request=assignment.request, active=True).first()
    if control is not None:
        side = side_of(assignment, control.image_id)
        return Judgement(choice=preferred_side, **{f"{side}_aesthetic": control.expected_aesthetic})
    return Judgement(choice=preferred_side)


def vote_at(rater, assignment: PairAssignment, judgement: Judgement, now: dt.datetime) -> Vote:
    return arena_vote(rater=rater, assignment_id=assignment.id, judgement=judgement, now=now)

"""Example pairs per pipeline for the leaderboard page: unblinded, so only retired pairs.

A pair is shown here only when `ratings.selectors.arena_retired_filter` says nobody can be
served it any more (the one rule): the page names which pipeline made which image, and
that must never reach someone still judging the pair. The page is public, so a pair a
moderator hid, one with a censored image and an NSFW one are never examples either.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.files.storage import default_storage

from generation.models import GenerationRequest, Image, hidden_pair_requests

from .selectors import arena_retired_filter, censored_request_ids, votes_counted
from .services.trust import vote_winner

EXAMPLES_PER_PIPELINE = 2


def leaderboard_examples(
    *, model_name: str, pipeline_ids: list[int], per_pipeline: int = EXAMPLES_PER_PIPELINE
) -> dict[int, list[dict[str, Any]]]:
    """{pipeline id: up to `per_pipeline` retired pairs holding its image, latest retired first},
    each with the prompt, that pipeline's image and its opponent (url, pipeline name) and how
    the counted votes went (won, lost, tied or both bad, from that pipeline's side)."""
    chosen: dict[int, list] = {}
    for pipeline_id in pipeline_ids:
        chosen[pipeline_id] = list(
            GenerationRequest.objects.filter(
                arena_retired_filter(),
                model__name=model_name,
                model__compare_pipelines=True,
                shared=True,
                status=GenerationRequest.Status.DONE,
                jobs__pipeline_id=pipeline_id,
                nsfw=False,
            )
            .exclude(pk__in=hidden_pair_requests())
            .exclude(pk__in=censored_request_ids())
            .order_by("-arena_retired_at", "pk")
            .values_list("pk", "prompt")[:per_pipeline]
        )
    request_ids = {request_id for rows in chosen.values() for request_id, _ in rows}
    if not request_ids:
        return {pipeline_id: [] for pipeline_id in pipeline_ids}
    images: dict = defaultdict(list)
    for image in Image.objects.filter(request_id__in=request_ids).select_related("job__pipeline"):
        images[image.request_id].append(image)
    tallies: dict = defaultdict(lambda: defaultdict(int))
    for vote in (
        votes_counted()
        .filter(request_id__in=request_ids)
        .only("request_id", "choice", "left_image_id", "right_image_id")
    ):
        tallies[vote.request_id][vote_winner(vote)] += 1

    def side(image: Image) -> dict[str, Any]:
        pipeline = image.job.pipeline
        return {"url": default_storage.url(image.file.name), "pipeline": f"{pipeline.name} v{pipeline.version}"}

    examples: dict[int, list[dict[str, Any]]] = {}
    for pipeline_id, rows in chosen.items():
        examples[pipeline_id] = []
        for request_id, prompt in rows:
            pair = images[request_id]
            mine = next((image for image in pair if image.job.pipeline_id == pipeline_id), None)
            other = next((image for image in pair if image is not mine), None)
            if mine is None or other is None:
                continue
            tally = tallies[request_id]
            examples[pipeline_id].append(
                {
                    "request_id": str(request_id),
                    "prompt": prompt,
                    "mine": side(mine),
                    "other": side(other),
                    "won": tally[str(mine.id)],
                    "lost": tally[str(other.id)],
                    "even": tally["tie"] + tally["both_bad"],
                }
            )
    return examples

"""Shared SDXL beta images join the built-in set by themselves (housekeeping), once each."""

from __future__ import annotations

import pytest

from aesthetics.errors import RatingRefused
from aesthetics.models import RatingSet, SetImage
from aesthetics.services import image_rate
from aesthetics.tasks import shared_comparisons_join
from generation.models import GenerationRequest, Image
from tests.ratings.conftest import make_pair, sdxl_model  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_finished_shared_comparison_images_join_the_built_in_set_once(alice, make_pair, media):  # noqa: F811
    shared = make_pair(alice[0])
    make_pair(alice[0], status=GenerationRequest.Status.PROCESSING)  # not finished: not yet
    private = make_pair(alice[0])
    # A request that is not shared stays out (the SDXL beta shares all; the rule is checked anyway).
    GenerationRequest.objects.filter(pk=private.pk).update(shared=False)

    assert shared_comparisons_join.apply().get(timeout=10) == 2
    assert shared_comparisons_join() == 0  # a second run adds nothing

    rating_set = RatingSet.objects.get(name=RatingSet.SHARED_COMPARISONS)
    rows = list(SetImage.objects.filter(rating_set=rating_set))
    assert {row.generated_id for row in rows} == set(Image.objects.filter(request=shared).values_list("id", flat=True))
    assert all(row.prompt == shared.prompt and row.file.name == row.generated.file.name for row in rows)


def test_nobody_rates_an_image_they_generated_themselves(alice, bob, make_pair, media):  # noqa: F811
    make_pair(alice[0])
    shared_comparisons_join()
    image = SetImage.objects.first()
    with pytest.raises(RatingRefused) as refused:
        image_rate(rater=alice[0], image_id=image.id, rating=10, artifacts=0)
    assert refused.value.rc == "NotOwner"
    assert image_rate(rater=bob[0], image_id=image.id, rating=6, artifacts=0).rating == 6

"""Fill the arena's stored state for requests made before it existed: the live-vote counter
from the votes, and only comparison requests in the arena pool."""

from django.db import migrations
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    GenerationRequest = apps.get_model("generation", "GenerationRequest")
    Vote = apps.get_model("ratings", "Vote")
    live = (
        Vote.objects.filter(request=OuterRef("pk"), retracted_at__isnull=True)
        .order_by()
        .values("request")
        .annotate(n=Count("*"))
        .values("n")
    )
    GenerationRequest.objects.update(arena_votes=Coalesce(Subquery(live, output_field=IntegerField()), 0))
    GenerationRequest.objects.filter(model__compare_pipelines=False).update(arena_pool=False)


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0009_arena_counter_and_pool"),
        ("ratings", "0005_rater_calibration_flags_and_clock_defaults"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]

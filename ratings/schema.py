"""OpenAPI descriptions (drf-spectacular) of what the ratings API answers.

Only documentation: the shapes are those of ratings.api (`assignment_json`),
ratings.selectors (`arena_today`, `pair_reveal`) and ratings.leaderboard; the schema
tests in tests/api_schema check real answers against them.
"""

from __future__ import annotations

from rest_framework import serializers


class RevealedImageSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The generation id (status `generations[].id`).")
    image_id = serializers.CharField(help_text="The image id (as the arena shows it).")
    pipeline = serializers.CharField(allow_null=True)
    version = serializers.CharField(allow_null=True)


class PairRevealSerializer(serializers.Serializer):
    """After the vote only: which pipeline made which image, in the order shown."""

    left = RevealedImageSerializer()
    right = RevealedImageSerializer()


class RatingRewardSerializer(serializers.Serializer):
    reward = serializers.IntegerField(help_text="Kudos rebated for the rating.")


class ArenaImageSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The image id (random).")
    url = serializers.CharField()


class ArenaAssignmentSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The assignment id: vote, skip or undo with it.")
    prompt = serializers.CharField()
    model = serializers.CharField()
    left = ArenaImageSerializer()
    right = ArenaImageSerializer()
    issued_at = serializers.DateTimeField()


class ArenaTodaySerializer(serializers.Serializer):
    votes = serializers.IntegerField(help_text="Your live arena votes since midnight UTC.")
    kudos = serializers.IntegerField(help_text="Arena kudos earned since midnight UTC.")
    cap = serializers.IntegerField(help_text="The daily arena kudos cap.")


class ArenaPairSerializer(serializers.Serializer):
    assignment = ArenaAssignmentSerializer(allow_null=True, help_text="null: no pair to judge now.")
    today = ArenaTodaySerializer()


class ArenaVotedSerializer(serializers.Serializer):
    reward = serializers.IntegerField()
    vote_id = serializers.UUIDField()
    today = ArenaTodaySerializer()
    reveal = PairRevealSerializer()


class ArenaUndoneSerializer(serializers.Serializer):
    undone = serializers.UUIDField(help_text="The vote taken back; its pair is withdrawn (its pipelines were shown).")
    today = ArenaTodaySerializer()


class ArenaSkippedSerializer(serializers.Serializer):
    skipped = serializers.UUIDField(help_text="The assignment skipped.")


class PositionBiasSerializer(serializers.Serializer):
    decisive_votes = serializers.IntegerField()
    left_wins = serializers.IntegerField()
    right_wins = serializers.IntegerField()
    left_share = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    method = serializers.CharField(allow_null=True)


class BoardPipelineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()
    status = serializers.ChoiceField(choices=["ranked", "no votes yet"])
    strength = serializers.FloatField(allow_null=True, help_text="Log-odds, mean 0 over the ranked pipelines.")
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    votes = serializers.IntegerField()
    wins = serializers.IntegerField()
    ties = serializers.IntegerField(help_text="Ties, both_bad included.")
    both_bad = serializers.IntegerField()
    losses = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True)


class BoardDifferenceSerializer(serializers.Serializer):
    higher = serializers.IntegerField()
    lower = serializers.IntegerField()
    difference = serializers.FloatField()
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    separated = serializers.BooleanField(help_text="The 95% interval excludes 0.")
    compared = serializers.BooleanField(help_text="Linked by comparisons (else never separated).")


class ModelBoardSerializer(serializers.Serializer):
    model = serializers.CharField()
    votes = serializers.IntegerField()
    requests = serializers.IntegerField()
    raters = serializers.IntegerField()
    effective_clusters = serializers.FloatField(allow_null=True)
    position_bias = PositionBiasSerializer()
    pipelines = BoardPipelineSerializer(many=True)
    differences = BoardDifferenceSerializer(many=True)


class LeaderboardMethodSerializer(serializers.Serializer):
    model = serializers.CharField()
    scale = serializers.CharField()
    ties = serializers.CharField()
    weights = serializers.CharField()
    checks = serializers.CharField()
    bootstrap = serializers.CharField()
    ranks = serializers.CharField()
    confidence = serializers.FloatField()
    bootstrap_rounds = serializers.IntegerField()
    seed = serializers.IntegerField()


class LeaderboardSerializer(serializers.Serializer):
    models = ModelBoardSerializer(many=True)
    computed_at = serializers.DateTimeField()
    method = LeaderboardMethodSerializer()

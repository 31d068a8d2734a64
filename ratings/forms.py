from __future__ import annotations

from django import forms

AESTHETIC_LEVELS = [
    (1, "awful"),
    (2, "very bad"),
    (3, "bad"),
    (4, "below average"),
    (5, "average"),
    (6, "above average"),
    (7, "good"),
    (8, "very good"),
    (9, "excellent"),
    (10, "masterpiece"),
]
ARTIFACT_LEVELS = [
    (0, "flawless, and it fits the prompt"),
    (1, "tiny flaws you have to look for"),
    (2, "small flaws that are easy to spot but don't spoil it"),
    (3, "obvious flaws that spoil it a little"),
    (4, "obvious flaws that spoil it a lot"),
    (5, "garbage"),
]


def _score_field(levels: list[tuple[int, str]]) -> forms.CharField:
    # A select for rendering; the rules are OwnPairRateSerializer's (see ratings.views).
    choices = [("", "—"), *[(value, f"{value} · {meaning}") for value, meaning in levels]]
    return forms.CharField(required=False, widget=forms.Select(choices=choices))


JUDGED_FILTERS = {"": "All", "waiting": "Waiting for your verdict", "judged": "Judged"}


class MyImagesFilterForm(forms.Form):
    """My images' filters from the query string; a value that does not fit filters nothing."""

    model = forms.CharField(required=False, max_length=200)
    judged = forms.ChoiceField(required=False, choices=list(JUDGED_FILTERS.items()))

    def values(self) -> tuple[str, str]:
        self.is_valid()
        return self.cleaned_data.get("model", ""), self.cleaned_data.get("judged", "")


class JudgeForm(forms.Form):
    """The own-pair page's verdict, in the shown order: rendering only. The view sends it as
    the API's body (`judge_body`) through the API's serializer and service, and puts their
    errors back on these fields."""

    choice = forms.CharField(required=False)
    left_aesthetic = _score_field(AESTHETIC_LEVELS)
    right_aesthetic = _score_field(AESTHETIC_LEVELS)
    left_artifacts = _score_field(ARTIFACT_LEVELS)
    right_artifacts = _score_field(ARTIFACT_LEVELS)

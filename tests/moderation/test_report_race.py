"""Two first reports of one image by one user at the same moment: the unique constraint
decides, so exactly one is created and the other is told it already exists (no 500)."""

from __future__ import annotations

import threading

import pytest

from moderation.models import Report
from moderation.reports import report_create
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_simultaneous_reports_by_one_user_make_one_row(bob, shared_pair):
    image = shared_pair.images.first()
    barrier = threading.Barrier(4)

    def report(index: int):
        barrier.wait()
        return report_create(image=image, reporter=bob[0], reason="abuse", note=f"try {index}")

    results = run_in_threads(report, count=4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({stored.pk for stored, _ in results}) == 1
    assert Report.objects.count() == 1

"""Charge the jobs that were waiting when charging moved from completion to submission.

Until then a job was charged when it finished; now it is charged when its request is
submitted, and completion only rewards the worker. A job queued or running at the
upgrade had not been paid for and would otherwise never be: charge it now, with the
event key submission uses (`job-charge:<job id>`), so completion, cancel and fault
treat it like any other. Jobs already charged are left alone; a fresh database has no
jobs, so this does nothing there.

The ledger is written through kudos.services (the only writer), imported only when
there is something to charge.
"""

from collections import defaultdict

from django.db import migrations

WAITING = ["queued", "claimed"]


def charge_unpaid_waiting_jobs(apps, schema_editor):
    Job = apps.get_model("generation", "Job")
    Transaction = apps.get_model("kudos", "Transaction")
    rows = list(
        Job.objects.filter(status__in=WAITING).values_list(
            "id", "kudos", "index", "request_id", "request__n", "request__user_id"
        )
    )
    if not rows:
        return
    paid = set(
        Transaction.objects.filter(event_key__in=[f"job-charge:{row[0]}" for row in rows]).values_list(
            "event_key", flat=True
        )
    )
    from accounts.models import User
    from kudos.services import Movement, kudos_charge_many

    by_user = defaultdict(list)
    for job_id, kudos, index, request_id, n, user_id in rows:
        key = f"job-charge:{job_id}"
        if key in paid or kudos <= 0:
            continue
        memo = f"Charged for image {index + 1} of {n}, request {str(request_id)[:8]} (queued before the upgrade)"
        by_user[user_id].append(Movement(key, int(kudos), memo))
    for user_id in sorted(by_user):
        kudos_charge_many(user=User.objects.get(pk=user_id), charges=by_user[user_id])


class Migration(migrations.Migration):
    dependencies = [("generation", "0002_imagemodel_comparison_rules"), ("kudos", "0005_rebate_reversal_kind")]

    operations = [migrations.RunPython(charge_unpaid_waiting_jobs, migrations.RunPython.noop)]

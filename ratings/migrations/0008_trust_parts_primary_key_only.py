# A full trust run rebuilds every index of the parts table; the incremental runs now find the
# parts they redo through the votes' own indexes, so only the primary key is left.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ratings", "0007_trust_recompute_runs"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="trustvotefigures", name="trustvote_by_rater"),
        migrations.RemoveField(model_name="trustvotefigures", name="request_id"),
    ]

# Every index of a rating is written by each rating, and a full trust run rebuilds every index of
# the parts table: the ones that others already lead with, or that nothing reads, go.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("aesthetics", "0002_rating_trust_figures"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # (image, rater) and (rater, -created_at) lead with these columns.
        migrations.AlterField(
            model_name="imagerating",
            name="image",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ratings",
                to="aesthetics.setimage",
            ),
        ),
        migrations.AlterField(
            model_name="imagerating",
            name="rater",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="image_ratings",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        # The trust parts are found through the ratings' own indexes now.
        migrations.RemoveIndex(model_name="trustratingfigures", name="trustrating_by_rater"),
        migrations.RemoveField(model_name="trustratingfigures", name="image_id"),
    ]

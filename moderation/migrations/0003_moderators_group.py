from django.db import migrations


def sync(apps, schema_editor):
    from moderation.roles import moderators_group_sync

    moderators_group_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0002_reports"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]

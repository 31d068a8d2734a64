"""The anonymous user (id 0, apikey 0000000000), as on the AI Horde."""

import hashlib

from django.db import migrations


def create_anonymous(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.update_or_create(
        id=0,
        defaults={
            "username": "Anonymous",
            "password": "!",  # unusable: the anonymous user can never log in
            "apikey_hash": hashlib.sha256(b"0000000000").hexdigest(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_anonymous, migrations.RunPython.noop)]

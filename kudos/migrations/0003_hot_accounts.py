"""Create the hot accounts (the system accounts and the anonymous user's) up front.

`account_for_user` / `system_account` would create them on first use, but the first
use usually happens inside a caller's transaction (a job's completion): until that
transaction commits, every other request that needs the same account would wait on
the new row's unique index entry, which is the hot-row queue the ledger avoids.
"""

from django.db import migrations

SYSTEM_CODES = ["generation_spend", "worker_rewards", "rating_rebates", "staff_adjustments"]
ANONYMOUS_USER_ID = 0


def create_hot_accounts(apps, schema_editor):
    Account = apps.get_model("kudos", "Account")
    User = apps.get_model("accounts", "User")
    for code in SYSTEM_CODES:
        Account.objects.get_or_create(code=code, defaults={"hot": True})
    if User.objects.filter(pk=ANONYMOUS_USER_ID).exists():
        Account.objects.get_or_create(user_id=ANONYMOUS_USER_ID, defaults={"hot": True})


class Migration(migrations.Migration):
    dependencies = [("kudos", "0002_append_only"), ("accounts", "0002_anonymous_user")]

    operations = [migrations.RunPython(create_hot_accounts, migrations.RunPython.noop)]

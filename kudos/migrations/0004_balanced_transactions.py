"""On PostgreSQL, refuse to commit a ledger transaction whose entries do not sum to zero.

Double entry held by the database, whoever writes: a deferred constraint trigger
checks, at commit, every transaction that gained an entry. (A transaction row
with no entries at all is harmless and not checked.)
"""

from django.db import migrations

CHECK = """
CREATE OR REPLACE FUNCTION kudos_check_balanced() RETURNS trigger AS $$
DECLARE
    total numeric;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total FROM kudos_entry WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'kudos transaction % is unbalanced: its entries sum to %', NEW.transaction_id, total
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER kudos_entry_balanced AFTER INSERT ON kudos_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kudos_check_balanced();
"""
UNCHECK = """
DROP TRIGGER IF EXISTS kudos_entry_balanced ON kudos_entry;
DROP FUNCTION IF EXISTS kudos_check_balanced();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CHECK, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNCHECK, params=None)


class Migration(migrations.Migration):
    dependencies = [("kudos", "0003_hot_accounts")]

    operations = [migrations.RunPython(forward, backward)]

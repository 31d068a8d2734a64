"""On PostgreSQL, refuse UPDATE and DELETE of ledger rows: the ledger is append-only
whoever writes (a raw SQL session, a stray admin action), not only in Python."""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION kudos_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the kudos ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER kudos_entry_append_only BEFORE UPDATE OR DELETE ON kudos_entry
    FOR EACH ROW EXECUTE FUNCTION kudos_forbid_change();
CREATE TRIGGER kudos_transaction_append_only BEFORE UPDATE OR DELETE ON kudos_transaction
    FOR EACH ROW EXECUTE FUNCTION kudos_forbid_change();
"""
ALLOW = """
DROP TRIGGER IF EXISTS kudos_entry_append_only ON kudos_entry;
DROP TRIGGER IF EXISTS kudos_transaction_append_only ON kudos_transaction;
DROP FUNCTION IF EXISTS kudos_forbid_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW, params=None)


class Migration(migrations.Migration):
    dependencies = [("kudos", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]

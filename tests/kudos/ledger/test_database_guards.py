"""On PostgreSQL the database guards the ledger whoever writes.

Triggers refuse UPDATE and DELETE of ledger rows (append-only, kudos/0002) and refuse
to commit a transaction whose entries do not sum to zero (double entry, kudos/0004).
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, ProtectedError

from accounts.services import user_create
from kudos.models import Account, Entry, Transaction
from kudos.services import account_for_user, kudos_transfer

from .helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(ledger_user):
    alice, bob = ledger_user("alice", 100), ledger_user("bob")
    txn = kudos_transfer(sender=alice, recipient=bob, amount=30)
    return txn


def snapshot():
    return (
        list(Transaction.objects.order_by("pk").values_list("pk", "event_key", "memo", "kind")),
        list(Entry.objects.order_by("pk").values_list("pk", "transaction_id", "account_id", "amount")),
    )


def refused(action) -> str:
    """Run `action` in a savepoint; return the database's refusal message."""
    with pytest.raises(DatabaseError) as error, transaction.atomic():
        action()
    return str(error.value)


def raw(sql: str, params=()):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run


def test_the_ledger_triggers_are_installed():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid IN ('kudos_entry'::regclass, 'kudos_transaction'::regclass)"
            " AND NOT tgisinternal"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert names == {"kudos_entry_append_only", "kudos_transaction_append_only", "kudos_entry_balanced"}


def test_an_orm_update_of_entries_is_refused(posted):
    before = snapshot()
    message = refused(lambda: Entry.objects.filter(transaction=posted).update(amount=F("amount") * 2))
    assert "append-only: UPDATE on kudos_entry refused" in message
    assert snapshot() == before
    assert_ledger_consistent()


def test_saving_an_existing_entry_is_refused(posted):
    entry = posted.entries.first()
    entry.amount = 1_000_000
    message = refused(entry.save)
    assert "UPDATE on kudos_entry" in message


def test_an_orm_delete_of_entries_is_refused(posted):
    before = snapshot()
    message = refused(lambda: Entry.objects.filter(transaction=posted).delete())
    assert "append-only: DELETE on kudos_entry refused" in message
    assert snapshot() == before


def test_an_orm_update_of_transactions_is_refused(posted):
    before = snapshot()
    message = refused(lambda: Transaction.objects.filter(pk=posted.pk).update(memo="rewritten history"))
    assert "append-only: UPDATE on kudos_transaction refused" in message
    assert snapshot() == before


def test_an_orm_delete_of_a_transaction_with_entries_is_refused(posted):
    # Django's PROTECT stops it first; the trigger stands behind it.
    with pytest.raises(ProtectedError):
        posted.delete()
    assert Transaction.objects.filter(pk=posted.pk).exists()


def test_an_orm_delete_of_a_bare_transaction_row_is_refused_by_the_trigger(posted):
    bare = Transaction.objects.create(kind=Transaction.Kind.ADJUSTMENT, event_key="bare")
    message = refused(lambda: Transaction.objects.filter(pk=bare.pk).delete())
    assert "append-only: DELETE on kudos_transaction refused" in message
    assert Transaction.objects.filter(pk=bare.pk).exists()


@pytest.mark.parametrize(
    ("sql", "table", "op"),
    [
        ("UPDATE kudos_entry SET amount = amount + 1", "kudos_entry", "UPDATE"),
        ("UPDATE kudos_entry SET balance_after = 0", "kudos_entry", "UPDATE"),
        ("DELETE FROM kudos_entry", "kudos_entry", "DELETE"),
        ("UPDATE kudos_transaction SET event_key = event_key || '-x'", "kudos_transaction", "UPDATE"),
        ("DELETE FROM kudos_transaction", "kudos_transaction", "DELETE"),
    ],
)
def test_raw_sql_cannot_change_or_remove_ledger_rows(posted, sql, table, op):
    before = snapshot()
    message = refused(raw(sql))
    assert f"append-only: {op} on {table} refused" in message
    assert snapshot() == before
    assert_ledger_consistent()


def test_appending_still_works_after_a_refusal(posted, ledger_user):
    refused(raw("DELETE FROM kudos_entry"))
    carol = ledger_user("carol", 5)
    assert carol.kudos_account.entries.count() == 1


def test_an_unbalanced_entry_is_refused(posted):
    account = posted.entries.first().account
    with pytest.raises(IntegrityError, match="is unbalanced: its entries sum to 50"), transaction.atomic():
        with connection.cursor() as cursor:
            # Check now rather than at commit, which a test in a rolled-back transaction never reaches.
            cursor.execute("SET CONSTRAINTS kudos_entry_balanced IMMEDIATE")
        lopsided = Transaction.objects.create(kind=Transaction.Kind.ADJUSTMENT, event_key="lopsided")
        Entry.objects.create(transaction=lopsided, account=account, amount=50)
    assert not Transaction.objects.filter(event_key="lopsided").exists()


def test_a_leg_added_to_a_balanced_transaction_is_refused(posted):
    account = account_for_user(user_create(username="carol"))
    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS kudos_entry_balanced IMMEDIATE")
        Entry.objects.create(transaction=posted, account=account, amount=30)
    assert posted.entries.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_rows")
def test_committing_an_unbalanced_transaction_fails_and_leaves_nothing():
    account = account_for_user(user_create(username="alice"))

    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
        lopsided = Transaction.objects.create(kind=Transaction.Kind.ADJUSTMENT, event_key="lopsided")
        Entry.objects.create(transaction=lopsided, account=account, amount=50, balance_after=50)
        Account.objects.filter(pk=account.pk).update(balance=50)

    assert not Transaction.objects.filter(event_key="lopsided").exists()
    assert Account.objects.get(pk=account.pk).balance == 0
    assert_ledger_consistent()

"""The ledger service: the only code that moves kudos.

Every public function here posts one balanced transaction through `_post`.
Other apps call the entry points (`kudos_charge`, `kudos_refund`,
`kudos_reward`, `kudos_rebate`, `kudos_transfer`, `kudos_adjust`) with an
`event_key` naming the event that pays; posting the same key twice raises
`DuplicateEvent` and changes nothing (a unique constraint decides, so this
also holds across processes).

A caller that posts several movements in one transaction calls
`kudos_lock_accounts` first with every user involved, so that two such
transactions over the same users queue instead of deadlocking.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from operator import attrgetter

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import ANONYMOUS_USER_ID, User

from .models import Account, Entry, SystemAccount, Transaction

# No single movement may exceed this: it bounds typos and overflow attacks.
MAX_AMOUNT = 1_000_000_000
# Transaction.event_key's column width.
MAX_EVENT_KEY_LENGTH = 200


class KudosError(Exception):
    """A refused movement; `rc` is the AI Horde's return-code name."""

    def __init__(self, message: str, rc: str = "KudosValidationError") -> None:
        super().__init__(message)
        self.message = message
        self.rc = rc


class DuplicateEvent(KudosError):
    def __init__(self, event_key: str) -> None:
        super().__init__(f"Event {event_key!r} has already been paid.", rc="DuplicateEvent")
        self.event_key = event_key


def account_for_user(user: User) -> Account:
    account = Account.objects.filter(user_id=user.pk).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(user_id=user.pk, hot=user.pk == ANONYMOUS_USER_ID)
    except IntegrityError:  # created by a concurrent request: use theirs
        return Account.objects.get(user_id=user.pk)


def system_account(code: SystemAccount) -> Account:
    account = Account.objects.filter(code=code.value).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(code=code.value, hot=True)
    except IntegrityError:
        return Account.objects.get(code=code.value)


def _check_amount(amount: object) -> int:
    # bool is an int subclass; True kudos is not an amount.
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise KudosError("Amount must be a whole number of kudos.")
    if amount <= 0:
        raise KudosError("Amount must be positive.", rc="NegativeKudosTransfer")
    if amount > MAX_AMOUNT:
        raise KudosError(f"Amount must be at most {MAX_AMOUNT}.")
    return amount


def _check_event_key(event_key: object) -> str:
    # An empty key would let the first caller that forgets one block every later one;
    # an over-long one would fail deep in the database with an untyped DataError.
    if not isinstance(event_key, str) or not event_key.strip() or len(event_key) > MAX_EVENT_KEY_LENGTH:
        raise KudosError(f"An event key is a non-empty string of at most {MAX_EVENT_KEY_LENGTH} characters.")
    return event_key


@transaction.atomic
def _post(
    *,
    kind: Transaction.Kind,
    event_key: str,
    legs: Sequence[tuple[Account, int]],
    memo: str = "",
    created_by: User | None = None,
    no_overdraft: Account | None = None,
) -> Transaction:
    """Write one balanced transaction. `no_overdraft` may not end below zero.

    Callers build `legs` inside their own `transaction.atomic()` block, so that a
    refused movement also rolls back any account it had to create.
    """
    event_key = _check_event_key(event_key)
    if sum(amount for _, amount in legs) != 0:
        raise ValueError("A ledger transaction must sum to zero.")
    if len({account.pk for account, _ in legs}) != len(legs):
        raise ValueError("One leg per account.")
    try:
        # The unique event_key is inserted first: a duplicate fails here, before any
        # balance moves; a concurrent duplicate waits on the index and then fails.
        with transaction.atomic():
            txn = Transaction.objects.create(kind=kind, event_key=event_key, memo=memo[:500], created_by=created_by)
    except IntegrityError as exc:
        raise DuplicateEvent(event_key) from exc

    cold_ids = sorted(account.pk for account, _ in legs if not account.hot)
    # Lock the cached-balance rows in id order, so two transfers between the same
    # pair of users in opposite directions cannot deadlock.
    balances = dict(
        Account.objects.select_for_update().filter(pk__in=cold_ids).order_by("pk").values_list("pk", "balance")
    )
    entries = []
    for account, amount in legs:
        balance_after = None
        if not account.hot:
            balance_after = balances[account.pk] + amount
            if no_overdraft is not None and account.pk == no_overdraft.pk and balance_after < 0:
                raise KudosError("Not enough kudos.", rc="KudosTransferNotEnough")
            Account.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
        entries.append(Entry(transaction=txn, account=account, amount=amount, balance_after=balance_after))
    Entry.objects.bulk_create(entries)
    return txn


def kudos_lock_accounts(*, users: Sequence[User]) -> None:
    """Lock these users' balance rows now, in one fixed order. Call inside a transaction.

    Each posting locks its own rows in id order, but a caller that makes several postings
    in one transaction (a job completion charges the requester, then rewards the worker's
    owner) takes them one posting at a time: two such transactions with the parties
    swapped would deadlock. Locking every party up front, sorted, makes them queue instead.
    Hot accounts (the anonymous user) are never locked.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("kudos_lock_accounts only makes sense inside transaction.atomic().")
    # Create missing accounts in user order first: new rows are only ever waited on by
    # their creation, so creating before locking keeps the two kinds of wait from crossing.
    accounts = [
        account_for_user(user) for user in sorted({user.pk: user for user in users}.values(), key=attrgetter("pk"))
    ]
    cold_ids = sorted(account.pk for account in accounts if not account.hot)
    list(Account.objects.select_for_update().filter(pk__in=cold_ids).order_by("pk").values_list("pk", flat=True))


def kudos_transfer(
    *, sender: User, recipient: User, amount: object, transfer_id: uuid.UUID | None = None
) -> Transaction:
    """Move kudos between two users; never overdraws the sender."""
    amount = _check_amount(amount)
    if sender.pk == ANONYMOUS_USER_ID:
        raise KudosError("The anonymous user cannot send kudos.", rc="KudosTransferFromAnon")
    if recipient.pk == ANONYMOUS_USER_ID:
        raise KudosError("Kudos cannot be sent to the anonymous user.", rc="KudosTransferToAnon")
    if sender.pk == recipient.pk:
        raise KudosError("You cannot send kudos to yourself.", rc="KudosTransferToSelf")
    with transaction.atomic():  # a refused transfer leaves no new account behind either
        # A sender without an account has nothing to send. Not creating one also means a
        # transfer creates at most one account (the recipient's): two new users sending
        # each other kudos would otherwise create the pair in opposite orders and deadlock.
        source = Account.objects.filter(user_id=sender.pk).first()
        if source is None:
            raise KudosError("Not enough kudos.", rc="KudosTransferNotEnough")
        target = account_for_user(recipient)
        return _post(
            kind=Transaction.Kind.TRANSFER,
            event_key=f"transfer:{transfer_id or uuid.uuid4()}",
            legs=[(source, -amount), (target, amount)],
            memo=f"{sender.username} -> {recipient.username}",
            created_by=sender,
            no_overdraft=source,
        )


def kudos_adjust(
    *, user: User, amount: int, reason: str, staff_user: User | None, event_key: str | None = None
) -> Transaction:
    """A staff adjustment: positive grants, negative takes away (may go below zero).

    `staff_user` is None for an operator command run from the shell.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0 or abs(amount) > MAX_AMOUNT:
        raise KudosError(f"An adjustment is a non-zero whole number of at most {MAX_AMOUNT} kudos.")
    if not isinstance(reason, str) or not reason.strip():
        raise KudosError("An adjustment needs a reason.")
    with transaction.atomic():
        return _post(
            kind=Transaction.Kind.ADJUSTMENT,
            event_key=f"adjustment:{uuid.uuid4()}" if event_key is None else event_key,
            legs=[(account_for_user(user), amount), (system_account(SystemAccount.STAFF_ADJUSTMENTS), -amount)],
            memo=reason,
            created_by=staff_user,
        )


def kudos_charge(*, user: User, amount: int, event_key: str, memo: str = "") -> Transaction:
    """Charge a requester for a generation. May go below zero: kudos is priority."""
    amount = _check_amount(amount)
    with transaction.atomic():
        return _post(
            kind=Transaction.Kind.GENERATION,
            event_key=event_key,
            legs=[(account_for_user(user), -amount), (system_account(SystemAccount.GENERATION_SPEND), amount)],
            memo=memo,
        )


def kudos_refund(*, user: User, amount: int, event_key: str, memo: str = "") -> Transaction:
    """Give back a generation charge (a cancelled or faulted request)."""
    amount = _check_amount(amount)
    with transaction.atomic():
        return _post(
            kind=Transaction.Kind.REFUND,
            event_key=event_key,
            legs=[(account_for_user(user), amount), (system_account(SystemAccount.GENERATION_SPEND), -amount)],
            memo=memo,
        )


def kudos_reward(*, user: User, amount: int, event_key: str, memo: str = "") -> Transaction:
    """Reward a worker's owner for a finished job."""
    amount = _check_amount(amount)
    with transaction.atomic():
        return _post(
            kind=Transaction.Kind.WORKER_REWARD,
            event_key=event_key,
            legs=[(account_for_user(user), amount), (system_account(SystemAccount.WORKER_REWARDS), -amount)],
            memo=memo,
        )


def kudos_rebate(*, user: User, amount: int, event_key: str, memo: str = "") -> Transaction:
    """Pay a rater's rebate."""
    amount = _check_amount(amount)
    with transaction.atomic():
        return _post(
            kind=Transaction.Kind.RATING_REBATE,
            event_key=event_key,
            legs=[(account_for_user(user), amount), (system_account(SystemAccount.RATING_REBATES), -amount)],
            memo=memo,
        )


def kudos_rebate_reverse(*, user: User, amount: int, event_key: str, memo: str = "") -> Transaction:
    """Take back a rater's rebate (an undone vote): a new transaction, never an edited one.

    May take the rater below zero if the rebate was already spent, like a charge.
    """
    amount = _check_amount(amount)
    with transaction.atomic():
        return _post(
            kind=Transaction.Kind.REBATE_REVERSAL,
            event_key=event_key,
            legs=[(account_for_user(user), -amount), (system_account(SystemAccount.RATING_REBATES), amount)],
            memo=memo,
        )

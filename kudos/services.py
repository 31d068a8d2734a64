"""The ledger service: the only code that moves kudos.

Every public function here posts balanced transactions through `_post_many`.
Other apps call the entry points (`kudos_charge`, `kudos_refund`,
`kudos_reward`, `kudos_rebate`, `kudos_transfer`, `kudos_adjust`, `kudos_award`, and the
batch forms `kudos_charge_many` / `kudos_refund_many`) with an `event_key`
naming the event that pays; posting the same key twice raises
`DuplicateEvent` and changes nothing (a unique constraint decides, so this
also holds across processes). After the commit of a posting that moved users'
balances, `kudos.signals.balance_changed` tells the apps above (the queue's
priority follows the balance).

A caller that posts several movements for different users in one transaction
calls `kudos_lock_accounts` first with every user involved, so that two such
transactions over the same users queue instead of deadlocking. The batch forms
move one user's kudos only, so they need no such call: a request's job charges
(at submission) or refunds (cancel, fault) go in one posting of a handful of
statements, whatever the number of jobs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from operator import attrgetter

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import ANONYMOUS_USER_ID, User

from .models import Account, Entry, SystemAccount, Transaction
from .signals import balance_changed

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
    # get_or_create settles a race itself: a concurrent create's IntegrityError becomes a get.
    return Account.objects.get_or_create(user_id=user.pk, defaults={"hot": user.pk == ANONYMOUS_USER_ID})[0]


def system_account(code: SystemAccount) -> Account:
    return Account.objects.get_or_create(code=code.value, defaults={"hot": True})[0]


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


@dataclass(frozen=True)
class Movement:
    """One movement of a batch (`kudos_charge_many`, `kudos_refund_many`): the event that
    pays, how much, and the memo the user's history shows."""

    event_key: str
    amount: int
    memo: str = ""


@dataclass(frozen=True)
class Posted:
    """What a batch wrote: its transactions, in order, and the user's balance right after
    them (None for a hot account such as the anonymous user's: it keeps no balance)."""

    transactions: list[Transaction]
    balance_after: int | None


@dataclass(frozen=True)
class _Posting:
    kind: Transaction.Kind
    event_key: str
    legs: Sequence[tuple[Account, int]]
    memo: str = ""
    created_by: User | None = None
    no_overdraft: Account | None = None


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
    posting = _Posting(kind, event_key, legs, memo, created_by, no_overdraft)
    return _post_many([posting])[0][0]


def _post_many(postings: Sequence[_Posting]) -> tuple[list[Transaction], dict[int, int]]:
    """Write balanced transactions, in order, as one unit. Call inside the caller's
    `transaction.atomic()` block: its savepoint undoes everything on a refusal.

    Returns the transactions and each user (cold) account's balance after them, by
    account id.

    A handful of statements whatever the number of postings: one INSERT of the
    transactions, one UPDATE per user account touched (in id order: that is the
    lock order, so two callers over the same users queue instead of deadlocking),
    one INSERT of the entries.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Ledger postings are written inside transaction.atomic().")
    for posting in postings:
        _check_event_key(posting.event_key)
        if sum(amount for _, amount in posting.legs) != 0:
            raise ValueError("A ledger transaction must sum to zero.")
        if len({account.pk for account, _ in posting.legs}) != len(posting.legs):
            raise ValueError("One leg per account.")
    keys = [posting.event_key for posting in postings]
    if len(set(keys)) != len(keys):
        raise DuplicateEvent(next(key for key in keys if keys.count(key) > 1))

    # The unique event_key is inserted first: a duplicate is skipped here (ON CONFLICT
    # DO NOTHING, so no savepoint is needed to survive it) before any balance moves; a
    # concurrent duplicate waits on the index and then is skipped too.
    connection = transaction.get_connection()
    now = timezone.now()
    created_at = connection.ops.adapt_datetimefield_value(now)
    quote = connection.ops.quote_name
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(postings))
    params: list = []
    for posting in postings:
        created_by_id = posting.created_by.pk if posting.created_by is not None else None
        params += [posting.kind, posting.event_key, posting.memo[:500], created_by_id, created_at]
    with connection.cursor() as cursor:
        # Only table names and %s placeholders are interpolated: the values are parameters.
        cursor.execute(
            f"INSERT INTO {quote(Transaction._meta.db_table)} (kind, event_key, memo, created_by_id, created_at) "  # noqa: S608
            f"VALUES {rows} ON CONFLICT (event_key) DO NOTHING RETURNING id, event_key",
            params,
        )
        ids = {key: pk for pk, key in cursor.fetchall()}
        for key in keys:
            if key not in ids:
                raise DuplicateEvent(key)

        # Cached balances: one UPDATE ... RETURNING per user account, in id order (the
        # row lock order). Hot accounts (system, anonymous) are never locked nor updated.
        deltas: dict[int, int] = {}
        for posting in postings:
            for account, amount in posting.legs:
                if not account.hot:
                    deltas[account.pk] = deltas.get(account.pk, 0) + amount
        running: dict[int, int] = {}
        for pk in sorted(deltas):
            cursor.execute(
                f"UPDATE {quote(Account._meta.db_table)} SET balance = balance + %s WHERE id = %s RETURNING balance",  # noqa: S608
                [deltas[pk], pk],
            )
            running[pk] = cursor.fetchone()[0] - deltas[pk]  # the balance before these postings

    transactions, entries = [], []
    for posting in postings:
        txn = Transaction(
            id=ids[posting.event_key],
            kind=posting.kind,
            event_key=posting.event_key,
            memo=posting.memo[:500],
            created_by=posting.created_by,
            created_at=now,
        )
        txn._state.adding, txn._state.db = False, connection.alias
        transactions.append(txn)
        for account, amount in posting.legs:
            balance_after = None
            if not account.hot:
                balance_after = running[account.pk] = running[account.pk] + amount
                if posting.no_overdraft is not None and account.pk == posting.no_overdraft.pk and balance_after < 0:
                    # The caller's savepoint undoes the rows written above.
                    raise KudosError("Not enough kudos.", rc="KudosTransferNotEnough")
            entries.append(Entry(transaction=txn, account=account, amount=amount, balance_after=balance_after))
    Entry.objects.bulk_create(entries)
    owners = {account.pk: account.user_id for posting in postings for account, _ in posting.legs}
    moved = sorted({owners[pk] for pk, delta in deltas.items() if delta and owners[pk] is not None})
    if moved:
        # After the commit: a receiver (the queue's priority) must read the new balance, and a
        # posting rolled back with its caller's savepoint tells nobody anything.
        transaction.on_commit(partial(_balances_moved, moved))
    return transactions, running


def _balances_moved(user_ids: list[int]) -> None:
    balance_changed.send_robust(sender=Account, user_ids=user_ids)


def _accounts(
    *, users: Sequence[User], codes: Sequence[SystemAccount]
) -> tuple[dict[int, Account], dict[str, Account]]:
    """These users' and system accounts in one query; missing ones are created
    (users in id order first, as `kudos_lock_accounts` does)."""
    user_ids = sorted({user.pk for user in users})
    found = Account.objects.filter(Q(user_id__in=user_ids) | Q(code__in=[code.value for code in codes]))
    by_user, by_code = {}, {}
    for account in found:
        if account.user_id is not None:
            by_user[account.user_id] = account
        else:
            by_code[account.code] = account
    for user in sorted({user.pk: user for user in users}.values(), key=attrgetter("pk")):
        if user.pk not in by_user:
            by_user[user.pk] = account_for_user(user)
    for code in codes:
        if code.value not in by_code:
            by_code[code.value] = system_account(code)
    return by_user, by_code


def _user_and_system(user: User, code: SystemAccount) -> tuple[Account, Account]:
    by_user, by_code = _accounts(users=[user], codes=[code])
    return by_user[user.pk], by_code[code.value]


def kudos_lock_accounts(*, users: Sequence[User]) -> None:
    """Lock these users' balance rows now, in one fixed order. Call inside a transaction.

    Each posting locks its own rows in id order, but a caller that makes several postings
    for different users in one transaction (say, a charge of one user, then a reward of
    another) takes them one posting at a time: two such transactions with the parties
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
        account, system = _user_and_system(user, SystemAccount.STAFF_ADJUSTMENTS)
        return _post(
            kind=Transaction.Kind.ADJUSTMENT,
            event_key=f"adjustment:{uuid.uuid4()}" if event_key is None else event_key,
            legs=[(account, amount), (system, -amount)],
            memo=reason,
            created_by=staff_user,
        )


def kudos_award(*, staff_user: User, user: User, amount: object, award_id: uuid.UUID | None = None) -> Transaction:
    """A staff member awards kudos (the AI Horde's `kudos/award`), from the staff adjustments
    account. `award_id` names the award: a retry with the same one pays nothing more."""
    amount = _check_amount(amount)
    if not staff_user.is_staff:
        raise KudosError("Only staff can award kudos.", rc="NotAllowedAwards")
    if user.pk == ANONYMOUS_USER_ID:
        raise KudosError("Kudos cannot be awarded to the anonymous user.", rc="KudosAwardToAnon")
    with transaction.atomic():
        account, system = _user_and_system(user, SystemAccount.STAFF_ADJUSTMENTS)
        return _post(
            kind=Transaction.Kind.AWARD,
            event_key=f"award:{award_id or uuid.uuid4()}",
            legs=[(account, amount), (system, -amount)],
            memo=f"Awarded by {staff_user.username}",
            created_by=staff_user,
        )


def _user_system_moves(
    *, user: User, system: SystemAccount, kind: Transaction.Kind, moves: Sequence[Movement], sign: int
) -> Posted:
    """Movements between one user and one system account, posted as one unit. Each
    movement's `amount` is checked positive; `sign` says which way it goes (+1: to the
    user, -1: from the user)."""
    if not moves:
        raise KudosError("Nothing to post.")
    checked = [(move, sign * _check_amount(move.amount)) for move in moves]
    with transaction.atomic():
        account, pool = _user_and_system(user, system)
        transactions, balances = _post_many(
            [
                _Posting(kind, move.event_key, [(account, amount), (pool, -amount)], move.memo)
                for move, amount in checked
            ]
        )
        return Posted(transactions=transactions, balance_after=balances.get(account.pk))


def kudos_charge(*, user: User, amount: int, event_key: str, memo: str = "") -> Transaction:
    """Charge a requester for a generation. May go below zero: kudos is priority."""
    return kudos_charge_many(user=user, charges=[Movement(event_key, amount, memo)]).transactions[0]


def kudos_charge_many(*, user: User, charges: Sequence[Movement]) -> Posted:
    """Charge a requester for several generations (a request's jobs) in one posting.

    One transaction per charge, each with its own event key, written as one unit (any
    key already paid: DuplicateEvent, and none is written) in a handful of statements.
    May go below zero, like `kudos_charge`. The returned balance is the requester's
    right after the charges: what the queue priority of these jobs follows.
    """
    return _user_system_moves(
        user=user, system=SystemAccount.GENERATION_SPEND, kind=Transaction.Kind.GENERATION, moves=charges, sign=-1
    )


def kudos_refund(*, user: User, amount: int, event_key: str, memo: str = "") -> Transaction:
    """Give back a generation charge (a cancelled or faulted request)."""
    return kudos_refund_many(user=user, refunds=[Movement(event_key, amount, memo)]).transactions[0]


def kudos_refund_many(*, user: User, refunds: Sequence[Movement]) -> Posted:
    """Give back several generation charges in one posting (as `kudos_charge_many`)."""
    return _user_system_moves(
        user=user, system=SystemAccount.GENERATION_SPEND, kind=Transaction.Kind.REFUND, moves=refunds, sign=1
    )


def kudos_reward(*, user: User, amount: int, event_key: str, memo: str = "") -> Transaction:
    """Reward a worker's owner for a finished job."""
    return _user_system_moves(
        user=user,
        system=SystemAccount.WORKER_REWARDS,
        kind=Transaction.Kind.WORKER_REWARD,
        moves=[Movement(event_key, amount, memo)],
        sign=1,
    ).transactions[0]


def kudos_rebate(*, user: User, amount: int, event_key: str, memo: str = "") -> Transaction:
    """Pay a rater's rebate."""
    return _user_system_moves(
        user=user,
        system=SystemAccount.RATING_REBATES,
        kind=Transaction.Kind.RATING_REBATE,
        moves=[Movement(event_key, amount, memo)],
        sign=1,
    ).transactions[0]


def kudos_rebate_reverse(*, user: User, amount: int, event_key: str, memo: str = "") -> Transaction:
    """Take back a rater's rebate (an undone vote): a new transaction, never an edited one.

    May take the rater below zero if the rebate was already spent, like a charge.
    """
    return _user_system_moves(
        user=user,
        system=SystemAccount.RATING_REBATES,
        kind=Transaction.Kind.REBATE_REVERSAL,
        moves=[Movement(event_key, amount, memo)],
        sign=-1,
    ).transactions[0]

"""The kudos ledger: double-entry, append-only.

Invariants (kudos.services is the only code that writes these tables):
- Every movement is one Transaction whose Entries sum to zero over accounts.
- Entries and transactions are never updated or deleted (on PostgreSQL a
  trigger refuses it; the admin shows them read-only).
- A Transaction's `event_key` is unique: the same event (a job, a rating, a
  transfer id) can never pay twice, whoever writes.
- For a user account, `balance` is a cache kept in the same database
  transaction as the entries and always equals the sum of its entries.
  "Hot" accounts (the system accounts and the anonymous user) keep no cached
  balance: every generation touches them, and a single locked row would
  queue all those requests behind each other. Their balance is summed on read.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Account(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="kudos_account"
    )
    # System accounts have a code instead of a user (see SystemAccount).
    code = models.CharField(max_length=50, null=True, blank=True, unique=True)
    hot = models.BooleanField(default=False, help_text="No cached balance; summed from entries on read.")
    balance = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="kudos_account_user_xor_code",
                condition=(Q(user__isnull=False, code__isnull=True) | Q(user__isnull=True, code__isnull=False)),
            ),
            models.CheckConstraint(
                name="kudos_account_hot_has_no_cached_balance", condition=Q(hot=False) | Q(balance=0)
            ),
        ]

    def __str__(self) -> str:
        return self.code or f"user:{self.user_id}"


class SystemAccount(models.TextChoices):
    GENERATION_SPEND = "generation_spend", "Generation spend"
    WORKER_REWARDS = "worker_rewards", "Worker rewards"
    RATING_REBATES = "rating_rebates", "Rating rebates"
    STAFF_ADJUSTMENTS = "staff_adjustments", "Staff adjustments"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        TRANSFER = "transfer", "Transfer"
        GENERATION = "generation", "Generation"
        REFUND = "refund", "Refund"
        WORKER_REWARD = "worker_reward", "Worker reward"
        RATING_REBATE = "rating_rebate", "Rating rebate"
        REBATE_REVERSAL = "rebate_reversal", "Rating rebate taken back"
        ADJUSTMENT = "adjustment", "Staff adjustment"
        AWARD = "award", "Award"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What paid: unique, so an event pays at most once (e.g. "job-charge:<uuid>").
    event_key = models.CharField(max_length=200, unique=True)
    memo = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.event_key}"


class Entry(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    # The account's balance right after this entry (user accounts only): the history and
    # the balance chart read it instead of summing.
    balance_after = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "entries"
        indexes = [models.Index(fields=["account", "-id"], name="kudos_entry_account_recent")]
        constraints = [
            models.CheckConstraint(name="kudos_entry_amount_nonzero", condition=~Q(amount=0)),
            # One leg per account per transaction keeps the history readable.
            models.UniqueConstraint(fields=["transaction", "account"], name="kudos_entry_one_leg_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount:+d}"

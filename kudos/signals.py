"""What the ledger tells the apps above it (imports point down: it cannot call them).

`balance_changed` is sent after the commit of every posting that moved a user's cached
balance, with `user_ids` (sorted, no hot accounts: the anonymous user keeps no balance).
Receivers run outside the ledger's transaction and cannot undo it; one that fails is logged
(`send_robust`), and the posting stands.
"""

from __future__ import annotations

from django.dispatch import Signal

balance_changed = Signal()

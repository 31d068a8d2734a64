"""Writes of users: creation, API key rotation, shared keys, the NSFW preference."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from .apikeys import apikey_generate, apikey_hash, sharedkey_generate
from .models import SharedKey, User

# As on the AI Horde: three shared keys, ten for trusted users.
MAX_SHARED_KEYS = 3
MAX_SHARED_KEYS_TRUSTED = 10
SHARED_KEY_FIELDS = ("name", "kudos", "expiry", "max_image_pixels", "max_image_steps", "max_text_tokens")


class SharedKeyRefused(Exception):
    """A shared key may not do this, with the AI Horde's status code and rc name."""

    def __init__(self, status_code: int, rc: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.rc = rc
        self.message = message


def apikey_rotate(*, user: User) -> str:
    """Give the user a fresh API key and return it; the old one stops working at once.

    The plain key is returned exactly once: only its hash is stored.
    """
    if user.is_anonymous_horde_user:
        raise ValueError("The anonymous user's key cannot be rotated.")
    key = apikey_generate()
    User.objects.filter(pk=user.pk).update(apikey_hash=apikey_hash(key), apikey_created_at=timezone.now())
    user.apikey_hash = apikey_hash(key)
    return key


@transaction.atomic
def user_create(
    *, username: str, email: str = "", password: str | None = None, is_staff: bool = False, trusted: bool = False
) -> User:
    user = User(username=username, email=email, is_staff=is_staff, trusted=trusted)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


def _expiry_from_days(days: int) -> Any:
    """-1: never; N: N days from now (0: from now on, which retires the key)."""
    return None if days == -1 else timezone.now() + timedelta(days=days)


def shared_key_max(*, user: User) -> int:
    return MAX_SHARED_KEYS_TRUSTED if user.trusted else MAX_SHARED_KEYS


@transaction.atomic
def shared_key_create(*, user: User, settings: dict[str, Any]) -> tuple[SharedKey, str]:
    """A new shared key of `user` with `settings` (validated: SharedKeyInputSerializer;
    `expiry` in days). Returns it and the key, which exists nowhere else: only its hash is stored."""
    if user.is_anonymous_horde_user:
        raise SharedKeyRefused(403, "AnonForbidden", "Anonymous user is forbidden from performing this operation.")
    # The owner's row is the lock: two creations at once are counted one after the other.
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).get()
    cap = shared_key_max(user=user)
    if SharedKey.objects.filter(user_id=user.pk).count() >= cap:
        raise SharedKeyRefused(403, "Forbidden", f"You cannot have more than {cap} shared keys.")
    key = sharedkey_generate()
    values = {name: settings[name] for name in SHARED_KEY_FIELDS if name in settings}
    if "expiry" in values:
        values["expiry"] = _expiry_from_days(values["expiry"])
    shared_key = SharedKey.objects.create(user=user, key_hash=apikey_hash(key), **values)
    return shared_key, key


def shared_key_update(*, shared_key: SharedKey, changes: dict[str, Any]) -> SharedKey:
    """Set the given settings (validated; `expiry` in days from now). Only the named columns
    are written: a spend landing meanwhile keeps its `utilized`, and its `kudos` unless the
    owner sets a new allowance (which is then the allowance left, as on the AI Horde)."""
    values = {name: changes[name] for name in SHARED_KEY_FIELDS if name in changes}
    if not values:
        raise SharedKeyRefused(400, "NoSharedKeyModSelected", "No shared key modification selected!")
    if "expiry" in values:
        values["expiry"] = _expiry_from_days(values["expiry"])
    SharedKey.objects.filter(pk=shared_key.pk).update(**values)
    shared_key.refresh_from_db()
    return shared_key


def shared_key_delete(*, shared_key: SharedKey) -> None:
    SharedKey.objects.filter(pk=shared_key.pk).delete()


def shared_key_refusal(*, shared_key: SharedKey, price: int | None = None) -> SharedKeyRefused | None:
    """Why this key may not be used now (for a request of `price` kudos), else None."""
    if shared_key.expiry is not None and shared_key.expiry <= timezone.now():
        return SharedKeyRefused(403, "SharedKeyExpired", "This shared key has expired")
    if shared_key.kudos == 0:
        return SharedKeyRefused(403, "SharedKeyEmpty", "This shared key has run out of kudos.")
    if price is not None and shared_key.kudos != SharedKey.UNLIMITED and price > shared_key.kudos:
        return SharedKeyRefused(
            403,
            "SharedKeyInsufficientKudos",
            f"This shared key does not have enough remaining kudos ({shared_key.kudos}) "
            f"to fulfill this request ({price}).",
        )
    return None


def shared_key_check(*, shared_key: SharedKey, width: int, height: int, steps: int, price: int) -> None:
    """Refuse a request the key may not pay for: expired, empty, short of `price`, or over its
    per-job limits (a 400, as on the AI Horde). Reads only: `shared_key_spend` decides."""
    refusal = shared_key_refusal(shared_key=shared_key, price=price)
    if refusal is not None:
        raise refusal
    pixels = width * height
    if shared_key.max_image_pixels != SharedKey.UNLIMITED and pixels > shared_key.max_image_pixels:
        raise SharedKeyRefused(
            400,
            "BadRequest",
            f"This shared key is limited to {shared_key.max_image_pixels} pixels per job. "
            f"You requested {pixels} pixels.",
        )
    if shared_key.max_image_steps != SharedKey.UNLIMITED and steps > shared_key.max_image_steps:
        raise SharedKeyRefused(
            400,
            "BadRequest",
            f"This shared key is limited to {shared_key.max_image_steps} steps per job. You requested {steps} steps.",
        )


def shared_key_spend(*, shared_key: SharedKey, amount: int) -> None:
    """Take `amount` from the key's allowance and count it as utilized. Call inside the
    transaction that charges the owner, so a refused spend undoes the charge too.

    One compare-and-swap: the UPDATE's WHERE re-checks allowance and expiry on the row
    as it is when the statement gets it (PostgreSQL re-reads a row a concurrent spend
    just changed), so two requests at once cannot both spend the last of the allowance.
    """
    now = timezone.now()
    spent = (
        SharedKey.objects.filter(pk=shared_key.pk)
        .filter(Q(kudos=SharedKey.UNLIMITED) | Q(kudos__gte=amount), ~Q(kudos=0))
        .filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
        .update(
            kudos=Case(When(kudos=SharedKey.UNLIMITED, then=SharedKey.UNLIMITED), default=F("kudos") - amount),
            utilized=F("utilized") + amount,
        )
    )
    if spent == 1:
        return
    current = SharedKey.objects.filter(pk=shared_key.pk).first()
    if current is None:
        raise SharedKeyRefused(401, "InvalidAPIKey", "No user matching sent Shared Key.")
    raise shared_key_refusal(shared_key=current, price=amount) or SharedKeyRefused(
        403, "SharedKeyInsufficientKudos", "This shared key does not have enough remaining kudos."
    )


def shared_key_give_back(*, shared_key_id: int, amount: int) -> None:
    """Return refunded kudos (a cancelled or failed image) to the key's allowance: what the
    owner got back, the key may spend again. A deleted key has nothing to take it."""
    if amount <= 0:
        return
    SharedKey.objects.filter(pk=shared_key_id).update(
        kudos=Case(When(kudos=SharedKey.UNLIMITED, then=SharedKey.UNLIMITED), default=F("kudos") + amount),
        utilized=Case(When(utilized__lt=amount, then=0), default=F("utilized") - amount),
    )


def nsfw_preference_set(*, user: User, show: bool) -> None:
    """The viewer's choice: images marked NSFW shown in the gallery and the arena, or not."""
    User.objects.filter(pk=user.pk).update(show_nsfw=show)
    user.show_nsfw = show

"""Reads of users."""

from __future__ import annotations

from horde_site.api_input import is_ascii_number

from .apikeys import apikey_hash, sharedkey_canonical
from .models import ANONYMOUS_USER_ID, SharedKey, User


def user_by_apikey(*, key: str) -> User | None:
    if len(key) > 100:
        return None
    return User.objects.filter(apikey_hash=apikey_hash(key)).first()


def shared_key_by_key(*, key: str) -> SharedKey | None:
    """The shared key this text opens (any spelling of its UUID), with its owner; else None."""
    canonical = sharedkey_canonical(key)
    if canonical is None:
        return None
    return SharedKey.objects.select_related("user").filter(key_hash=apikey_hash(canonical)).first()


def shared_key_details(*, shared_key: SharedKey, key: str) -> dict:
    """The AI Horde's SharedKeyDetails. `key` is the key itself (the AI Horde's `id`): the
    caller holds it, since only its hash is stored."""
    expiry = shared_key.expiry
    return {
        "id": sharedkey_canonical(key),
        "username": shared_key.user.horde_name,
        "name": shared_key.name,
        "kudos": shared_key.kudos,
        "expiry": expiry.isoformat() if expiry is not None else None,
        "utilized": shared_key.utilized,
        "max_image_pixels": shared_key.max_image_pixels,
        "max_image_steps": shared_key.max_image_steps,
        "max_text_tokens": shared_key.max_text_tokens,
    }


def shared_keys_of(*, user: User) -> list[SharedKey]:
    """A user's shared keys, oldest first (the profile page's list)."""
    return list(SharedKey.objects.filter(user_id=user.pk).order_by("created_at", "pk"))


USERS_PER_PAGE = 25


def users_page(*, sort: str, page: int) -> list[User]:
    """One page of registered users (not the anonymous user), as the AI Horde sorts them:
    `kudos` richest first (no account yet is 0 kudos), `age` oldest first; ties by id, so
    pages never overlap."""
    from django.db.models import Value
    from django.db.models.functions import Coalesce

    users = User.objects.filter(is_active=True).exclude(pk=ANONYMOUS_USER_ID)
    if sort == "age":
        users = users.order_by("date_joined", "pk")
    else:
        users = users.annotate(kudos=Coalesce("kudos_account__balance", Value(0))).order_by("-kudos", "pk")
    return list(users[(page - 1) * USERS_PER_PAGE : page * USERS_PER_PAGE])


def user_by_horde_name(*, name: str) -> User | None:
    """Find a user by `name#id` (the AI Horde form), by `#id`, or by plain username."""
    name = name.strip()
    if "#" in name:
        _, _, raw_id = name.rpartition("#")
        if not is_ascii_number(raw_id) or len(raw_id) > 18:
            return None
        user = User.objects.filter(pk=int(raw_id)).first()
        username = name.rpartition("#")[0]
        if user is not None and username and user.username != username:
            return None
        return user
    return User.objects.filter(username=name).first()


def user_kudos_details(*, user: User) -> dict[str, int]:
    """The AI Horde's `kudos_details` (UserKudosDetails) from the ledger.

    Signs follow the AI Horde: kudos given away (`gifted`) and spent on
    generations (in `accumulated`) are negative. Transfers are split by
    direction, as the AI Horde reports sent and received apart.
    """
    from django.db.models import Q, Sum

    from kudos.models import Entry, Transaction

    kind = Transaction.Kind
    rows = Entry.objects.filter(account__user_id=user.pk).aggregate(
        generation=Sum("amount", filter=Q(transaction__kind__in=[kind.GENERATION, kind.REFUND])),
        worker=Sum("amount", filter=Q(transaction__kind=kind.WORKER_REWARD)),
        gifted=Sum("amount", filter=Q(transaction__kind=kind.TRANSFER, amount__lt=0)),
        received=Sum("amount", filter=Q(transaction__kind=kind.TRANSFER, amount__gt=0)),
        admin=Sum("amount", filter=Q(transaction__kind=kind.ADJUSTMENT)),
        awarded=Sum("amount", filter=Q(transaction__kind__in=[kind.RATING_REBATE, kind.AWARD])),
    )
    totals = {name: int(value or 0) for name, value in rows.items()}
    return {
        # "Accumulated or used for generating images": worker earnings minus spending.
        "accumulated": totals["generation"] + totals["worker"],
        "gifted": totals["gifted"],
        "donated": 0,
        "admin": totals["admin"],
        "received": totals["received"],
        "recurring": 0,
        "awarded": totals["awarded"],
        "styled": 0,
    }


def user_records(*, user: User) -> dict[str, dict[str, float | int]]:
    """The AI Horde's `records` (UserRecords): what the user asked for and what their workers made."""
    from django.db.models import F, Sum

    from generation.models import GenerationRequest, Worker

    requested = GenerationRequest.objects.filter(user_id=user.pk).aggregate(
        images=Sum("n"),
        pixelsteps=Sum(F("width") * F("height") * F("steps") * F("n")),
    )
    worked = Worker.objects.filter(owner_id=user.pk).aggregate(images=Sum("jobs_done"), mps=Sum("mps_done"))
    return {
        "usage": {"megapixelsteps": round((requested["pixelsteps"] or 0) / 1_000_000, 2), "tokens": 0},
        "contribution": {"megapixelsteps": round(worked["mps"] or 0.0, 2), "tokens": 0},
        "fulfillment": {"image": int(worked["images"] or 0), "text": 0, "interrogation": 0},
        "request": {"image": int(requested["images"] or 0), "text": 0, "interrogation": 0},
    }


def user_details(*, user: User) -> dict:
    """The AI Horde's UserDetails, with the fields that apply to Horde."""
    from django.utils import timezone

    from generation.models import Worker
    from kudos.selectors import user_balance

    worker_ids = [
        str(pk)
        for pk in Worker.objects.filter(owner_id=user.pk, retired_at__isnull=True)
        .order_by("created_at")
        .values_list("pk", flat=True)
    ]
    records = user_records(user=user)
    return {
        "username": user.horde_name,
        "id": user.pk,
        "kudos": user_balance(user=user),
        "kudos_details": user_kudos_details(user=user),
        "worker_count": len(worker_ids),
        "worker_ids": worker_ids,
        "trusted": user.trusted,
        "moderator": user.is_staff,
        "pseudonymous": False,
        "account_age": max(0, int((timezone.now() - user.date_joined).total_seconds())),
        "records": records,
        # The older summary fields some clients still read.
        "usage": {"megapixelsteps": records["usage"]["megapixelsteps"], "requests": records["request"]["image"]},
        "contributions": {
            "megapixelsteps": records["contribution"]["megapixelsteps"],
            "fulfillments": records["fulfillment"]["image"],
        },
    }

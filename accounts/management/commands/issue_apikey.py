"""python manage.py issue_apikey USERNAME [--create] [--kudos N] [--staff] [--trusted]

Gives the user a fresh API key and prints it alone on the last line of stdout.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from accounts.services import apikey_rotate, user_create
from kudos.services import KudosError, kudos_adjust


class Command(BaseCommand):
    help = "Give a user a fresh API key (printed alone on the last line)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--create", action="store_true", help="Create the user if missing.")
        parser.add_argument("--kudos", type=int, default=0, help="Grant kudos (a staff adjustment in the ledger).")
        parser.add_argument("--staff", action="store_true", help="Make the user staff (moderator).")
        parser.add_argument("--trusted", action="store_true", help="Mark the user trusted.")
        parser.add_argument("--password", default=None, help="Set this password (for a browser log-in).")

    @transaction.atomic
    def handle(
        self,
        *args: Any,
        username: str,
        create: bool,
        kudos: int,
        staff: bool,
        trusted: bool,
        password: str | None,
        **options: Any,
    ) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create:
                raise CommandError(f"No user named {username!r} (use --create to make one).")
            user = user_create(username=username, password=password, is_staff=staff, trusted=trusted)
            self.stderr.write(f"Created user {user.horde_name}.")
        if user.is_anonymous_horde_user:
            raise CommandError("The anonymous user's key is fixed (0000000000).")
        changed = []
        if staff and not user.is_staff:
            user.is_staff = True
            changed.append("is_staff")
        if trusted and not user.trusted:
            user.trusted = True
            changed.append("trusted")
        if password:
            user.set_password(password)
            changed.append("password")
        if changed:
            user.save(update_fields=changed)
        if kudos:
            try:
                kudos_adjust(user=user, amount=kudos, reason="issue_apikey --kudos", staff_user=None)
            except KudosError as exc:
                raise CommandError(exc.message) from exc
        key = apikey_rotate(user=user)
        self.stdout.write(key)

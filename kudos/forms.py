"""The kudos page's transfer form."""

from __future__ import annotations

import uuid

from django import forms

from accounts.models import User
from accounts.selectors import user_by_horde_name

from .services import MAX_AMOUNT


class KudosTransferForm(forms.Form):
    recipient = forms.CharField(
        max_length=200, help_text="Their username, or name#id as on the AI Horde.", label="Recipient"
    )
    amount = forms.IntegerField(min_value=1, max_value=MAX_AMOUNT, label="Amount (kudos)")
    # A fresh id per rendered form: a double-submitted form carries the same id,
    # and the ledger's unique event key lets it pay once.
    transfer_id = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args: object, sender: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.sender = sender
        self.fields["recipient"].widget.attrs.update({"autocomplete": "off", "placeholder": "username or name#id"})

    def clean_recipient(self) -> User:
        recipient = user_by_horde_name(name=self.cleaned_data["recipient"])
        if recipient is None:
            raise forms.ValidationError("There is no user by that name.", code="InvalidTargetUsername")
        if recipient.is_anonymous_horde_user:
            raise forms.ValidationError("Kudos cannot be sent to the anonymous user.", code="KudosTransferToAnon")
        if recipient.pk == self.sender.pk:
            raise forms.ValidationError("You cannot send kudos to yourself.", code="KudosTransferToSelf")
        return recipient

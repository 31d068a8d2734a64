"""The kudos page's transfer form: rendering only.

Its fields are the API's transfer body under page names; the rules are
`KudosTransferInputSerializer`'s and the ledger's (see `kudos.views.transfer_from_form`),
whose errors are put back on these fields, so the page and the API refuse alike.
"""

from __future__ import annotations

import uuid

from django import forms

from .services import MAX_AMOUNT


class KudosTransferForm(forms.Form):
    recipient = forms.CharField(
        required=False, help_text="Their username, or name#id as on the AI Horde.", label="Recipient"
    )
    amount = forms.CharField(
        required=False, label="Amount (kudos)", widget=forms.NumberInput(attrs={"min": 1, "max": MAX_AMOUNT})
    )
    # A fresh id per rendered form: a double-submitted form carries the same id,
    # and the ledger's unique event key lets it pay once.
    transfer_id = forms.CharField(required=False, widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient"].widget.attrs.update({"autocomplete": "off", "placeholder": "username or name#id"})

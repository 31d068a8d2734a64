"""The kudos page: balance, balance chart, paged history and the transfer form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.selectors import user_by_horde_name
from horde_site.api_input import form_number

from .forms import KudosTransferForm
from .selectors import user_balance, user_entries
from .serializers import UNKNOWN_RECIPIENT, KudosTransferInputSerializer, whole_amount
from .services import DuplicateEvent, KudosError, kudos_transfer

HISTORY_PER_PAGE = 25
CHART_POINTS = 200  # the most recent entries drawn in the chart
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 800, 200, 10

# Which form field a refusal belongs to: the API body's names on the page, and the ledger's rc names.
_FORM_FIELDS = {"username": "recipient", "amount": "amount", "transfer_id": "transfer_id"}
_ERROR_FIELDS = {
    "KudosTransferNotEnough": "amount",
    "NegativeKudosTransfer": "amount",
    "KudosValidationError": "amount",
    "KudosTransferToSelf": "recipient",
    "KudosTransferToAnon": "recipient",
    "InvalidTargetUsername": "recipient",
    "KudosTransferFromAnon": None,
}


@dataclass(frozen=True)
class BalanceChart:
    points: str  # SVG polyline points
    zero_y: float | None  # where the zero line is drawn, when the balance crosses it
    low: int
    high: int
    start: datetime | None = None
    end: datetime | None = None
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT


def balance_chart(
    balances: list[int], *, start: datetime | None = None, end: datetime | None = None
) -> BalanceChart | None:
    """Scale a chronological list of balances into an SVG polyline (no JavaScript, no CDN)."""
    if not balances:
        return None
    if len(balances) == 1:
        balances = [balances[0], balances[0]]  # a flat line, not a dot
    low, high = min(*balances, 0), max(*balances, 0)
    span = (high - low) or 1
    step = (CHART_WIDTH - 2 * CHART_PAD) / (len(balances) - 1)

    def y(value: int) -> float:
        return round(CHART_PAD + (high - value) * (CHART_HEIGHT - 2 * CHART_PAD) / span, 1)

    points = " ".join(f"{round(CHART_PAD + i * step, 1)},{y(value)}" for i, value in enumerate(balances))
    return BalanceChart(points=points, zero_y=y(0) if low < 0 else None, low=low, high=high, start=start, end=end)


def transfer_body(form: KudosTransferForm) -> dict[str, object]:
    """The page's fields as the API's transfer body (a typed whole number is a number, as in JSON)."""
    body: dict[str, object] = {
        "username": form.cleaned_data["recipient"],
        "amount": form_number(form.cleaned_data["amount"]),
    }
    if form.cleaned_data["transfer_id"]:
        body["transfer_id"] = form.cleaned_data["transfer_id"]
    return body


def _transfer(request: HttpRequest, form: KudosTransferForm) -> bool:
    """Validate the form through the API's serializer and send it; False with errors on the form."""
    serializer = KudosTransferInputSerializer(data=transfer_body(form))
    if not serializer.is_valid():
        for name, problems in serializer.errors.items():
            form.add_error(_FORM_FIELDS.get(name), [str(problem) for problem in problems])
        return False
    data = serializer.validated_data
    amount = whole_amount(data["amount"])
    recipient = user_by_horde_name(name=data["username"])
    try:
        if recipient is None:
            raise KudosError(UNKNOWN_RECIPIENT, rc="InvalidTargetUsername")
        kudos_transfer(sender=request.user, recipient=recipient, amount=amount, transfer_id=data.get("transfer_id"))
    except DuplicateEvent:
        # The same form sent twice (a double click, a resubmitted page): it paid once already.
        messages.info(request, "That transfer was already made; it was not sent again.")
    except KudosError as exc:
        form.add_error(_ERROR_FIELDS.get(exc.rc), exc.message)
        return False
    else:
        messages.success(request, f"Sent {amount} kudos to {recipient.horde_name}.")
    return True


@login_required
def kudos_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        # The form only carries the fields (it has no rules of its own): it is always valid.
        form = KudosTransferForm(request.POST)
        if form.is_valid() and _transfer(request, form):
            return redirect("kudos:page")
    else:
        form = KudosTransferForm()

    entries = user_entries(user=user)
    page = Paginator(entries, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    # The most recent entries, oldest first; user accounts always record balance_after.
    newest_first = list(entries.values_list("created_at", "balance_after")[:CHART_POINTS])
    recent = [row for row in newest_first[::-1] if row[1] is not None]
    chart = balance_chart(
        [balance for _, balance in recent],
        start=recent[0][0] if recent else None,
        end=recent[-1][0] if recent else None,
    )
    context = {"balance": user_balance(user=user), "page": page, "chart": chart, "form": form}
    return render(request, "kudos/page.html", context, status=400 if form.errors else 200)

"""The kudos page: balance, paged history, balance chart, and the transfer form."""

from __future__ import annotations

import re
import uuid

import pytest

from kudos.selectors import user_balance
from kudos.services import kudos_adjust, kudos_charge
from kudos.views import balance_chart


@pytest.fixture
def alice_client(client, alice):
    user, _ = alice
    client.force_login(user)
    return client


def transfer_form(client) -> dict:
    """The hidden transfer id of a freshly rendered form, as a browser would send it."""
    html = client.get("/kudos/").content.decode()
    transfer_id = re.search(r'name="transfer_id" value="([0-9a-f-]{36})"', html).group(1)
    return {"transfer_id": transfer_id}


@pytest.mark.django_db
def test_the_kudos_page_needs_a_log_in(client):
    response = client.get("/kudos/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_shows_the_balance_history_and_a_chart(alice_client, alice):
    user, _ = alice
    kudos_charge(user=user, amount=1500, event_key=f"test:{uuid.uuid4()}", memo="a big picture")
    html = alice_client.get("/kudos/").content.decode()
    assert '<p class="big" id="balance">-500</p>' in html
    assert "a big picture" in html
    assert "test grant" in html
    assert "+1,000" in html and "-1,500" in html
    assert "<polyline" in html
    assert 'class="zero"' in html  # the balance went below zero
    assert "<script" not in html.split("<main")[1].split("</main>")[0]  # the chart is plain SVG


@pytest.mark.django_db
def test_each_render_carries_a_fresh_transfer_id(alice_client):
    assert transfer_form(alice_client) != transfer_form(alice_client)


@pytest.mark.django_db
def test_the_history_is_paged_25_at_a_time_newest_first(alice_client, alice):
    user, _ = alice
    for index in range(30):
        kudos_adjust(user=user, amount=index + 1, reason=f"grant number {index + 1}", staff_user=None)
    first = alice_client.get("/kudos/")
    assert first.context["page"].paginator.count == 31
    assert len(first.context["page"].object_list) == 25
    assert "grant number 30" in first.content.decode()
    assert "grant number 5<" not in first.content.decode()
    second = alice_client.get("/kudos/?page=2").content.decode()
    assert "grant number 5<" in second and "test grant" in second
    assert "grant number 30" not in second
    assert alice_client.get("/kudos/?page=999").context["page"].number == 2  # clamped, not an error


@pytest.mark.django_db
def test_the_form_sends_kudos_and_both_histories_show_it(alice_client, client, alice, bob):
    (alice_user, _), (bob_user, _) = alice, bob
    response = alice_client.post("/kudos/", {"recipient": "bob", "amount": "250", **transfer_form(alice_client)})
    assert response.status_code == 302
    page = alice_client.get("/kudos/").content.decode()
    assert f"Sent 250 kudos to bob#{bob_user.pk}" in page
    assert "alice -&gt; bob" in page and "-250" in page
    assert user_balance(user=alice_user) == 750
    assert user_balance(user=bob_user) == 1250

    client.force_login(bob_user)
    bob_page = client.get("/kudos/").content.decode()
    assert "alice -&gt; bob" in bob_page and "+250" in bob_page


@pytest.mark.django_db
def test_a_double_submitted_form_pays_once(alice_client, alice, bob):
    (alice_user, _), (bob_user, _) = alice, bob
    data = {"recipient": bob_user.horde_name, "amount": "100", **transfer_form(alice_client)}
    assert alice_client.post("/kudos/", data).status_code == 302
    again = alice_client.post("/kudos/", data, follow=True)
    assert "already made" in again.content.decode()
    assert user_balance(user=alice_user) == 900
    assert user_balance(user=bob_user) == 1100


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("recipient", "amount", "field", "message"),
    [
        ("nobody", "10", "recipient", "no user by that name"),
        ("bob#999999", "10", "recipient", "no user by that name"),
        ("", "10", "recipient", "may not be blank"),
        ("alice", "10", "recipient", "yourself"),
        ("Anonymous", "10", "recipient", "anonymous user"),
        ("bob", "0", "amount", "must be positive"),
        ("bob", "-5", "amount", "must be positive"),
        ("bob", "1.5", "amount", "whole number"),
        ("bob", "ten", "amount", "whole number"),
        ("bob", "", "amount", "whole number"),
        ("bob", str(10**12), "amount", "at most"),
        ("bob", "1001", "amount", "Not enough kudos"),
    ],
)
def test_bad_input_is_a_form_error_and_changes_nothing(
    alice_client, alice, bob, ledger_snapshot, recipient, amount, field, message
):
    before = ledger_snapshot()
    data = {"recipient": recipient, "amount": amount, **transfer_form(alice_client)}
    response = alice_client.post("/kudos/", data)
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert message in response.content.decode() or message.replace("'", "&#x27;") in response.content.decode()
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_a_forged_transfer_id_is_a_form_error(alice_client, alice, bob, ledger_snapshot):
    before = ledger_snapshot()
    response = alice_client.post("/kudos/", {"recipient": "bob", "amount": "10", "transfer_id": "nope"})
    assert response.status_code == 400
    assert "transfer_id" in response.context["form"].errors
    assert ledger_snapshot() == before


def test_the_chart_scales_balances_into_the_box():
    chart = balance_chart([0, 50, 100])
    assert chart is not None
    points = [tuple(map(float, pair.split(","))) for pair in chart.points.split()]
    assert [x for x, _ in points] == [10.0, 400.0, 790.0]
    assert [y for _, y in points] == [190.0, 100.0, 10.0]
    assert chart.zero_y is None
    assert balance_chart([]) is None
    flat = balance_chart([7])
    assert flat is not None and len(flat.points.split()) == 2
    negative = balance_chart([100, -100])
    assert negative is not None and negative.zero_y == 100.0


@pytest.mark.django_db
def test_the_page_costs_the_same_few_queries_however_long_the_history(
    alice_client, alice, django_assert_max_num_queries
):
    user, _ = alice
    for index in range(60):
        kudos_adjust(user=user, amount=1, reason=f"grant {index}", staff_user=None)
    with django_assert_max_num_queries(7):
        assert alice_client.get("/kudos/?page=2").status_code == 200

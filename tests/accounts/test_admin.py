"""The admin: users with trust and balance, a read-only ledger, and staff kudos adjustments."""

from __future__ import annotations

import pytest

from accounts.models import User
from kudos.models import Account, Entry, Transaction
from kudos.selectors import user_balance


@pytest.fixture
def staff_client(client, make_user):
    staff, _ = make_user("stella", password="stella-pass-123", is_staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client, staff


@pytest.mark.django_db
def test_the_user_list_shows_id_trust_staff_and_kudos(staff_client, alice):
    client, _ = staff_client
    user, _ = alice
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/admin/accounts/user/{user.pk}/change/' in html
    assert 'name="form-0-trusted"' in html  # trusted is editable in the list
    assert ">1000<" in html  # alice's balance column


@pytest.mark.django_db
def test_trust_can_be_set_from_the_user_list(staff_client, alice):
    client, _ = staff_client
    user, _ = alice
    changelist = client.get("/admin/accounts/user/?q=alice")
    formset = changelist.context["cl"].formset
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(user.pk),
        "form-0-trusted": "on",
        "_save": "Save",
    }
    assert formset.total_form_count() == 1
    response = client.post("/admin/accounts/user/?q=alice", data)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.trusted is True


@pytest.mark.django_db
def test_a_staff_adjustment_goes_through_the_ledger_with_the_staff_name(staff_client, alice, bob):
    client, staff = staff_client
    (alice_user, _), (bob_user, _) = alice, bob
    response = client.post(
        "/admin/accounts/user/",
        {"action": "adjust_kudos", "_selected_action": [alice_user.pk, bob_user.pk]},
    )
    assert response.status_code == 302
    form_url = response["Location"]
    form_page = client.get(form_url)
    assert form_page.status_code == 200
    assert f"alice#{alice_user.pk}" in form_page.content.decode()

    response = client.post(
        form_url, {"ids": f"{alice_user.pk},{bob_user.pk}", "amount": "-250", "reason": "refund of a bug"}
    )
    assert response.status_code == 302
    assert user_balance(user=alice_user) == 750
    assert user_balance(user=bob_user) == 750
    adjustments = Transaction.objects.filter(kind=Transaction.Kind.ADJUSTMENT, created_by=staff)
    assert adjustments.count() == 2
    assert set(adjustments.values_list("memo", flat=True)) == {"refund of a bug"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "reason"),
    [("0", "zero"), ("1.5", "fraction"), ("abc", "text"), ("10", ""), ("10", "   "), (str(10**12), "huge")],
)
def test_a_bad_adjustment_is_a_form_error_and_changes_nothing(staff_client, alice, amount, reason):
    client, _ = staff_client
    user, _ = alice
    entries = Entry.objects.count()
    url = f"/admin/accounts/user/adjust-kudos/?ids={user.pk}"
    response = client.post(url, {"ids": str(user.pk), "amount": amount, "reason": reason})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert Entry.objects.count() == entries
    assert user_balance(user=user) == 1000


@pytest.mark.django_db
def test_a_non_staff_user_cannot_adjust_kudos(client, alice, bob):
    (alice_user, _), (bob_user, _) = alice, bob
    client.force_login(alice_user)
    response = client.post(
        f"/admin/accounts/user/adjust-kudos/?ids={bob_user.pk}",
        {"ids": str(bob_user.pk), "amount": "500", "reason": "gift to a friend"},
    )
    assert response.status_code == 302  # to the admin log-in
    assert user_balance(user=bob_user) == 1000


@pytest.mark.django_db
def test_staff_without_the_user_change_permission_cannot_adjust_kudos(client, make_user, bob):
    viewer, _ = make_user("vic", is_staff=True)
    bob_user, _ = bob
    client.force_login(viewer)
    response = client.post(
        f"/admin/accounts/user/adjust-kudos/?ids={bob_user.pk}",
        {"ids": str(bob_user.pk), "amount": "500", "reason": "gift"},
    )
    assert response.status_code == 403
    assert user_balance(user=bob_user) == 1000


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["account", "transaction", "entry"])
def test_the_ledger_is_read_only_in_the_admin(staff_client, alice, model):
    client, _ = staff_client
    obj = {"account": Account, "transaction": Transaction, "entry": Entry}[model].objects.first()
    assert client.get(f"/admin/kudos/{model}/").status_code == 200
    assert client.get(f"/admin/kudos/{model}/add/").status_code == 403
    detail = client.get(f"/admin/kudos/{model}/{obj.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()  # shown, not editable
    assert client.post(f"/admin/kudos/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/kudos/{model}/{obj.pk}/change/", {}).status_code == 403


@pytest.mark.django_db
def test_a_transaction_page_shows_its_entries(staff_client, alice):
    client, _ = staff_client
    user, _ = alice
    txn = Transaction.objects.get(entries__account__user=user)
    html = client.get(f"/admin/kudos/transaction/{txn.pk}/change/").content.decode()
    assert "staff_adjustments" in html
    assert f"user:{user.pk}" in html


@pytest.mark.django_db
def test_the_user_list_counts_queries_once_for_all_balances(staff_client, make_user, django_assert_max_num_queries):
    client, _ = staff_client
    for index in range(5):
        make_user(f"user{index}", kudos=10)
    with django_assert_max_num_queries(12):
        assert client.get("/admin/accounts/user/").status_code == 200
    assert User.objects.count() >= 6


@pytest.mark.django_db
def test_staff_can_add_a_user_in_the_admin(staff_client):
    client, _ = staff_client
    password = "fresh-user-pass-123"
    response = client.post(
        "/admin/accounts/user/add/",
        {"username": "fresh", "password1": password, "password2": password, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert User.objects.get(username="fresh").check_password(password)


@pytest.mark.django_db
def test_staff_see_shared_keys_in_the_admin_without_the_key_and_cannot_edit_them(client, make_user, alice):
    from accounts.models import SharedKey
    from accounts.services import shared_key_create

    shared_key, key = shared_key_create(user=alice[0], settings={"name": "party key", "kudos": 77})
    admin_user, _ = make_user("root", is_staff=True, password="pw")
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_superuser"])
    client.force_login(admin_user)
    listing = client.get("/admin/accounts/sharedkey/").content.decode()
    assert "party key" in listing and key not in listing
    detail = client.get(f"/admin/accounts/sharedkey/{shared_key.pk}/change/").content.decode()
    assert key not in detail and shared_key.key_hash not in detail
    client.post(f"/admin/accounts/sharedkey/{shared_key.pk}/change/", {"kudos": "999999", "name": "x"})
    assert SharedKey.objects.get().kudos == 77


def test_the_admin_index_has_one_accounts_section_holding_users_and_email_addresses(staff_client, alice):
    from allauth.account.models import EmailAddress

    client, _ = staff_client
    EmailAddress.objects.create(user=alice[0], email="alice@example.org", verified=True, primary=True)
    apps = client.get("/admin/").context["app_list"]
    labels = [app["app_label"] for app in apps]
    assert "account" not in labels  # allauth's own "Accounts" section is gone
    accounts = next(app for app in apps if app["app_label"] == "accounts")
    assert {model["object_name"] for model in accounts["models"]} >= {"User", "EmailAddress"}
    sections = [app["name"].lower() for app in apps]
    assert sum("account" in name for name in sections) <= 1
    # The moved list works, with allauth's admin, on allauth's rows.
    listing = client.get("/admin/accounts/emailaddress/?q=alice")
    assert listing.status_code == 200
    assert "alice@example.org" in listing.content.decode()
    assert client.get("/admin/account/emailaddress/").status_code == 404

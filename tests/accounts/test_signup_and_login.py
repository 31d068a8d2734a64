"""Browser accounts with django-allauth, in the site's layout; the first API key is shown once."""

from __future__ import annotations

import re

import pytest

from accounts.models import User

SIGNUP = {
    "username": "dora",
    "email": "dora@example.com",
    "password1": "a-long-enough-pass-phrase",
    "password2": "a-long-enough-pass-phrase",
}


def signup(client, **overrides):
    return client.post("/accounts/signup/", {**SIGNUP, **overrides})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/accounts/signup/", "Sign Up"),
        ("/accounts/login/", "Sign In"),
        ("/accounts/password/reset/", "Password Reset"),
    ],
)
def test_the_account_pages_use_the_site_layout(client, url, text):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="topbar"' in html  # base.html's header
    assert "css/horde.css" in html
    assert 'class="panel auth-form"' in html
    assert text in html
    assert "Menu:" not in html  # allauth's bare default layout is gone


@pytest.mark.django_db
def test_sign_up_logs_in_and_shows_the_new_api_key_once(client, api_client, shown_apikey):
    response = signup(client)
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    user = User.objects.get(username="dora")
    assert user.apikey_hash  # issued at sign-up, stored only as a hash

    profile = client.get("/profile/")
    assert profile.status_code == 200
    assert profile["Cache-Control"] == "no-store"
    key = shown_apikey(profile)
    assert key is not None and len(key) == 22
    assert key not in user.apikey_hash
    found = api_client.get("/api/v2/find_user", headers={"apikey": key})
    assert found.status_code == 200
    assert found.json()["username"] == f"dora#{user.pk}"

    again = client.get("/profile/")
    assert shown_apikey(again) is None
    assert key not in again.content.decode()


@pytest.mark.django_db
def test_a_refused_sign_up_creates_no_user_and_issues_no_key(client):
    response = signup(client, password2="something-else-entirely")
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not User.objects.filter(username="dora").exists()
    assert "horde_new_apikey" not in client.session


@pytest.mark.django_db
def test_a_user_logs_in_by_username_and_out_again(client, make_user):
    make_user("erin", password="erin-pass-phrase-123")
    response = client.post("/accounts/login/", {"login": "erin", "password": "erin-pass-phrase-123"})
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    assert client.get("/profile/").status_code == 200

    logout_page = client.get("/accounts/logout/")
    assert 'class="topbar"' in logout_page.content.decode()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/profile/").status_code == 302  # logged out: back to the log-in page


@pytest.mark.django_db
def test_a_wrong_password_does_not_log_in(client, make_user):
    make_user("erin", password="erin-pass-phrase-123")
    response = client.post("/accounts/login/", {"login": "erin", "password": "wrong"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode() or "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_password_reset_mails_a_link_that_sets_a_new_password(client, mailoutbox):
    signup(client)
    client.post("/accounts/logout/")
    response = client.post("/accounts/password/reset/", {"email": "dora@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"http://[^/\s]+(/accounts/password/reset/key/\S+)", mailoutbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert 'class="topbar"' in form_page.content.decode()
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    new_password = "a-brand-new-pass-phrase"
    done = client.post(action, {"password1": new_password, "password2": new_password})
    assert done.status_code == 302
    assert User.objects.get(username="dora").check_password(new_password)


@pytest.mark.django_db
def test_with_mandatory_email_verification_the_key_waits_for_the_first_log_in(
    client, settings, mailoutbox, shown_apikey
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    response = signup(client)
    assert response.status_code == 302
    assert "/accounts/confirm-email/" in response["Location"]
    assert "_auth_user_id" not in client.session  # not logged in before the address is verified
    assert client.get("/profile/").status_code == 302

    link = re.search(r"http://[^/\s]+(/accounts/confirm-email/\S+)", mailoutbox[0].body).group(1)
    assert client.post(link).status_code == 302
    client.post("/accounts/login/", {"login": "dora", "password": SIGNUP["password1"]})
    key = shown_apikey(client.get("/profile/"))
    assert key is not None and len(key) == 22
    assert User.objects.get(username="dora").apikey_hash
    assert shown_apikey(client.get("/profile/")) is None

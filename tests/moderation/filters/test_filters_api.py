"""/api/v2/filters: moderators list, add, change, delete and check prompt filters (AI Horde shapes)."""

from __future__ import annotations

import pytest

from moderation.models import AuditEntry, PromptFilter

pytestmark = pytest.mark.django_db


def add(call, key, regex="loli", filter_type=10, **extra):
    return call("put", "/api/v2/filters", key, {"regex": regex, "filter_type": filter_type, **extra})


def test_a_moderator_adds_a_filter_and_gets_its_details(call, moderator):
    response = add(call, moderator[1], regex=r"\bfoo\b", description="test word")
    assert response.status_code == 201
    body = response.json()
    saved = PromptFilter.objects.get()
    assert body == {
        "id": str(saved.pk),
        "regex": r"\bfoo\b",
        "filter_type": 10,
        "description": "test word",
        "replacement": "",
        "user": moderator[0].horde_name,
    }
    assert AuditEntry.objects.filter(action="prompt_filter_add", actor=moderator[0]).count() == 1


def test_the_same_regex_and_type_again_answers_the_existing_filter(call, moderator):
    first = add(call, moderator[1]).json()
    again = add(call, moderator[1])
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert PromptFilter.objects.count() == 1


def test_staff_are_moderators_too(call, make_user):
    _staff, key = make_user("sam", is_staff=True)
    assert add(call, key).status_code == 201


def test_other_users_and_anonymous_are_refused_and_nothing_changes(call, alice, anonymous):
    from accounts.models import ANONYMOUS_APIKEY

    for key in (alice[1], ANONYMOUS_APIKEY):
        for method, path in (("get", "/api/v2/filters"), ("put", "/api/v2/filters"), ("post", "/api/v2/filters")):
            body = None if method == "get" else {"regex": "x", "filter_type": 10, "prompt": "x"}
            response = call(method, path, key, body)
            assert response.status_code == 403, (method, key)
            assert response.json()["rc"] == "NotModerator"
    assert call("get", "/api/v2/filters", None).status_code == 401
    assert not PromptFilter.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"regex": "(unclosed", "filter_type": 10},
        {"regex": "a*", "filter_type": 10},  # matches empty text: every prompt
        {"regex": "", "filter_type": 10},
        {"regex": "ok", "filter_type": 12},
        {"regex": "ok", "filter_type": 99999999999999999999},
        {"regex": "ok", "filter_type": "10"},
        {"regex": "ok", "filter_type": True},
        {"regex": 5, "filter_type": 10},
        {"regex": "ok\x00", "filter_type": 10},
        {"regex": "x" * 1001, "filter_type": 10},
        {"regex": "ok", "filter_type": 20, "replacement": "r" * 256},
        {"filter_type": 10},
    ],
)
def test_bad_filters_are_refused_with_400_and_nothing_is_stored(call, moderator, body):
    response = call("put", "/api/v2/filters", moderator[1], body)
    assert response.status_code == 400, response.content
    assert response.json()["rc"] == "BadRequest"
    assert not PromptFilter.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_list_filters_by_type_and_word(call, moderator):
    add(call, moderator[1], regex="alpha", filter_type=10)
    add(call, moderator[1], regex="beta", filter_type=11, description="greek")
    add(call, moderator[1], regex="gamma", filter_type=21)
    listed = call("get", "/api/v2/filters", moderator[1]).json()
    assert [found["regex"] for found in listed] == ["alpha", "beta", "gamma"]
    of_11 = call("get", "/api/v2/filters?filter_type=11", moderator[1]).json()
    assert [found["regex"] for found in of_11] == ["beta"]
    greek = call("get", "/api/v2/filters?contains=gree", moderator[1]).json()
    assert [found["regex"] for found in greek] == ["beta"]
    for bad in ("filter_type=٣", "filter_type=12", "filter_type=abc", "contains=" + "x" * 101):
        assert call("get", f"/api/v2/filters?{bad}", moderator[1]).status_code == 400, bad


def test_one_filter_is_read_changed_and_deleted(call, moderator, make_user):
    created = add(call, moderator[1], regex="old").json()
    path = f"/api/v2/filters/{created['id']}"
    assert call("get", path, moderator[1]).json() == created
    _staff, staff_key = make_user("sam", is_staff=True)
    changed = call("patch", path, staff_key, {"regex": "new", "description": "renamed"})
    assert changed.status_code == 200
    assert changed.json()["regex"] == "new" and changed.json()["user"].startswith("sam#")
    entry = AuditEntry.objects.get(action="prompt_filter_update")
    assert entry.details["before"]["regex"] == "old" and entry.details["after"]["regex"] == "new"
    deleted = call("delete", path, moderator[1])
    assert deleted.status_code == 200 and deleted.json() == {"message": "OK"}
    assert not PromptFilter.objects.exists()
    assert AuditEntry.objects.filter(action="prompt_filter_delete").count() == 1
    assert call("get", path, moderator[1]).json()["rc"] == "FilterNotFound"


def test_a_patch_with_nothing_to_change_or_a_bad_regex_changes_nothing(call, moderator):
    created = add(call, moderator[1], regex="keep").json()
    other = add(call, moderator[1], regex="other").json()
    path = f"/api/v2/filters/{created['id']}"
    nothing = call("patch", path, moderator[1], {})
    assert nothing.status_code == 400 and nothing.json()["rc"] == "NoFilterModSelected"
    assert call("patch", path, moderator[1], {"regex": "(("}).status_code == 400
    clash = call("patch", path, moderator[1], {"regex": other["regex"]})
    assert clash.status_code == 400
    assert PromptFilter.objects.get(pk=created["id"]).regex == "keep"
    assert not AuditEntry.objects.filter(action="prompt_filter_update").exists()


@pytest.mark.parametrize("filter_id", ["999", "abc", "٣", "9" * 30])
def test_an_unknown_filter_is_not_found(call, moderator, filter_id):
    for method in ("get", "patch", "delete"):
        body = {"regex": "x"} if method == "patch" else None
        response = call(method, f"/api/v2/filters/{filter_id}", moderator[1], body)
        assert response.status_code == 404, (method, response.content)
        assert response.json()["rc"] == "FilterNotFound"


@pytest.mark.django_db(transaction=True)  # filter changes reach the checker after commit
def test_the_prompt_check_counts_each_suspicion_type_once(call, moderator):
    add(call, moderator[1], regex=r"\bchild\w*", filter_type=10)
    add(call, moderator[1], regex=r"\bkid\b", filter_type=10)
    add(call, moderator[1], regex=r"\bnude\b", filter_type=11)

    def check(prompt, **extra):
        response = call("post", "/api/v2/filters", moderator[1], {"prompt": prompt, **extra})
        assert response.status_code == 200
        return response.json()

    assert check("a lighthouse at dusk") == {"suspicion": 0, "matches": []}
    assert check("a kid and a children's book") == {"suspicion": 1, "matches": ["kid"]}
    assert check("Nude CHILD") == {"suspicion": 2, "matches": ["child", "nude"]}
    assert check("Nüde, c h i l d") == {"suspicion": 2, "matches": ["child", "nude"]}
    assert check("a statue ### nude child")["suspicion"] == 0  # the negative prompt is not checked
    assert check("nude child", filter_type=11) == {"suspicion": 1, "matches": ["nude"]}
    bad = call("post", "/api/v2/filters", moderator[1], {"prompt": 5})
    assert bad.status_code == 400

"""horde-sdk 0.33.3 itself, in strict mode, drives the shared keys, the users list, the kudos
award and the documents against a live Horde: its own request models go out, its own response
models take the answers (an error answer or a refused field fails the test). A document request
with `format` set cannot be sent by 0.33.3 (it takes the field for a body of a GET and refuses),
so the SDK asks for the default (html); the markdown answers are judged in
test_strict_conformance.py."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from accounts.models import SharedKey
from kudos.selectors import user_balance

from .strict import sdk_python

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCRIPT = r"""
import json, sys
from horde_sdk.ai_horde_api import apimodels as m
from horde_sdk.ai_horde_api.ai_horde_clients import AIHordeAPIManualClient

owner_key, staff_key, recipient = sys.argv[1:4]
client = AIHordeAPIManualClient()
seen = []

def send(request, expected):
    answer = client.submit_request(request, expected)
    if not isinstance(answer, expected):
        raise SystemExit(f"{type(request).__name__}: {answer!r}")
    seen.append(type(answer).__name__)
    return answer

limits = {"max_image_pixels": -1, "max_image_steps": 50, "max_text_tokens": -1}
made = send(m.SharedKeyCreateRequest(apikey=owner_key, kudos=300, name="sdk key", **limits),
            m.ExpiryStrSharedKeyDetailsResponse)
key = str(made.sharedkey_id)
read = send(m.SharedKeyDetailsRequest(id=key), m.ExpiryStrSharedKeyDetailsResponse)
changed = send(m.SharedKeyModifyRequest(apikey=owner_key, id=key, kudos=120, name="renamed", expiry=3,
                                        **limits), m.ExpiryStrSharedKeyDetailsResponse)
as_key = send(m.FindUserRequest(apikey=key), m.UserDetailsResponse)
users = send(m.ListUsersDetailsRequest(page=1), m.ListUsersDetailsResponse)
awarded = send(m.KudosAwardRequest(apikey=staff_key, username=recipient, amount=25), m.KudosAwardResponse)
terms = send(m.AIHordeGetTermsRequest(), m.HordeDocument)
privacy = send(m.AIHordeGetPrivacyPolicyRequest(), m.HordeDocument)
deleted = send(m.SharedKeyDeleteRequest(apikey=owner_key, id=key), m.SharedKeyDeleteResponse)
print(json.dumps({
    "seen": seen,
    "made": [made.kudos, made.name, made.max_image_steps, made.expiry],
    "read": [read.kudos, read.utilized, read.username],
    "changed": [changed.kudos, changed.name, changed.expiry is not None],
    "as_key": as_key.username,
    "users": [user.username for user in users.root],
    "awarded": awarded.awarded,
    "documents": [(terms.html or "")[:4], (privacy.html or "")[:4]],
    "deleted": deleted.message,
}))
"""


def test_the_sdk_drives_shared_keys_users_award_and_documents(live_server, alice, bob, make_user):
    staff, staff_key = make_user("staffer", is_staff=True)
    result = subprocess.run(
        [sdk_python(), "-c", SCRIPT, alice[1], staff_key, bob[0].horde_name],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TESTS_ONGOING": "1", "AI_HORDE_URL": f"{live_server.url}/api/"},
    )
    errors = "\n".join(line for line in result.stderr.splitlines() if "DEBUG" not in line)
    assert result.returncode == 0, (result.stdout[-2000:], errors[-3000:])
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["seen"] == [
        "ExpiryStrSharedKeyDetailsResponse",
        "ExpiryStrSharedKeyDetailsResponse",
        "ExpiryStrSharedKeyDetailsResponse",
        "UserDetailsResponse",
        "ListUsersDetailsResponse",
        "KudosAwardResponse",
        "HordeDocument",
        "HordeDocument",
        "SharedKeyDeleteResponse",
    ]
    assert got["made"] == [300, "sdk key", 50, None]
    assert got["read"] == [300, 0, alice[0].horde_name]
    assert got["changed"] == [120, "renamed", True]
    assert got["as_key"] == f"{alice[0].horde_name} (Shared Key: renamed)"
    assert got["users"][0].startswith("bob#") or got["users"][0].startswith("alice#")
    assert set(got["users"]) >= {alice[0].horde_name, bob[0].horde_name, staff.horde_name}
    assert (got["awarded"], got["documents"], got["deleted"]) == (25.0, ["<h1>", "<h1>"], "OK")
    assert user_balance(user=bob[0]) == 1025
    assert not SharedKey.objects.exists()

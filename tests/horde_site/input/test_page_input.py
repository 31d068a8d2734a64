"""Hostile text anywhere a page or the API takes input: every URL of the URL conf refuses a NUL in
its query string or its form fields with a 400 (the 400 page, or the API's JSON error) before any
view runs, so no view passes it to PostgreSQL (which raises on a NUL: a 500), and nothing is stored.

Page views also read their query parameters through a form or serializer, never raw: values that
do not fit are refused (the price endpoint) or ignored (filters and links), never a 500.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.http import HttpResponse, QueryDict
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern

from accounts.models import SharedKey, User
from generation.models import GenerationRequest
from horde_site.api_input import TextInputMiddleware
from kudos.models import Transaction

pytestmark = pytest.mark.django_db

# Every query parameter a page or an API operation reads (views, forms, query serializers, admin).
KNOWN_PARAMETERS = [
    "page", "model", "judged", "again", "width", "height", "steps", "n", "next", "token", "ids", "q", "o",
    "format", "type", "sort", "models", "model_state", "tag", "name", "user_id", "worker_id", "validity",
    "min_count", "max_count", "_changelist_filters",
]  # fmt: skip
SAMPLE_BY_CONVERTER = {"int": "1", "str": "x", "slug": "x", "path": "x", "uuid": str(uuid.uuid4())}


def _route_sample(route: str) -> str:
    def sample(match: re.Match) -> str:
        converter = match.group(1) or "str"
        return SAMPLE_BY_CONVERTER.get(converter, "1")

    return re.sub(r"<(?:(\w+):)?\w+>", sample, route)


def _regex_sample(regex: str) -> str:
    text = re.sub(r"\(\?P<\w+>[^)]*\)", "1", regex)
    return text.lstrip("^").rstrip("$").replace("\\", "")


def _paths(patterns: list, prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern.pattern, RoutePattern):
            part = _route_sample(str(pattern.pattern))
        elif isinstance(pattern.pattern, RegexPattern):
            part = _regex_sample(pattern.pattern.regex.pattern)
        else:
            continue
        if isinstance(pattern, URLResolver):
            yield from _paths(pattern.url_patterns, prefix + part)
        elif isinstance(pattern, URLPattern):
            yield prefix + part


def every_url() -> list[str]:
    """One concrete path for each pattern of the URL conf that a sample value resolves."""
    found = []
    for path in dict.fromkeys("/" + path for path in _paths(get_resolver().url_patterns)):
        if any(char in path for char in "()[]|?*+"):
            continue  # a regex the sampler cannot fill in
        try:
            resolve(path)
        except Resolver404:
            continue
        found.append(path)
    return found


@pytest.fixture
def staff_client(client, make_user):
    """A staff superuser: every page, admin included, would render for them; none may see a NUL."""
    user, _ = make_user("root", is_staff=True)
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    client.force_login(user)
    return client


def assert_refused_as_bad_request(response, path: str) -> None:
    assert response.status_code == 400, (path, response.status_code)
    if path.startswith("/api/"):
        assert response.json()["rc"] == "BadRequest", path
        assert "NUL" in response.json()["message"], path
    else:
        html = response.content.decode()
        assert 'id="error-page"' in html and 'data-status="400"' in html, path
        assert "NUL" in html, path


def test_the_url_conf_walk_reaches_pages_the_api_and_the_admin():
    urls = every_url()
    assert len(urls) > 100
    for expected in ("/generate/price", "/kudos/", "/images", "/api/v2/kudos/transfer", "/admin/"):
        assert expected in urls, expected


def test_every_url_refuses_a_nul_in_its_query_string(staff_client):
    for path in every_url():
        assert_refused_as_bad_request(staff_client.get(f"{path}?x=%00"), path)


# The URLs whose views read query parameters: each of them is tried with every known parameter.
READERS = ["/generate", "/generate/price", "/images", "/gallery", "/kudos/", "/accounts/login/", "/workers",
           "/models", "/ratings/leaderboard", "/admin/accounts/user/", "/api/v2/workers", "/api/v2/status/models",
           "/api/v2/stats/img/models", "/api/v2/styles/image", "/api/v2/users", "/api/v2/filters"]  # fmt: skip


def test_every_url_refuses_each_known_query_parameter_holding_a_nul(staff_client):
    urls = every_url()
    assert set(READERS) <= set(urls)
    for index, path in enumerate(urls):
        # Every URL with one parameter in turn; the readers with each of them.
        names = KNOWN_PARAMETERS if path in READERS else [KNOWN_PARAMETERS[index % len(KNOWN_PARAMETERS)]]
        for name in names:
            response = staff_client.get(path, {name: "a\x00b"})
            assert_refused_as_bad_request(response, f"{path}?{name}")


def test_every_page_refuses_a_form_with_a_nul_field_and_the_api_never_fails(staff_client):
    for path in every_url():
        response = staff_client.post(path, {"field": "a\x00b", "prompt": "a fox"})
        if path.startswith("/api/"):
            # API bodies are JSON (a form body is no payload there): refused, never a 500.
            assert 400 <= response.status_code < 500, (path, response.status_code)
        else:
            assert_refused_as_bad_request(response, path)


def test_a_nul_in_a_form_fields_name_or_an_uploaded_files_name_is_refused(staff_client):
    assert_refused_as_bad_request(staff_client.post("/kudos/", {"amount\x00": "1"}), "/kudos/")
    upload = SimpleUploadedFile("a.png", b"x", content_type="image/png")
    assert_refused_as_bad_request(staff_client.post("/kudos/", {"image\x00": upload}), "/kudos/")


def test_a_nul_in_a_page_path_is_the_404_page(client):
    response = client.get("/requests/%00")
    assert response.status_code == 404
    assert 'id="error-page"' in response.content.decode()


def test_a_lone_surrogate_in_a_query_is_refused_before_the_view():
    # A WSGI server decodes query strings with replacement characters, so a surrogate comes
    # only from another front end (ASGI, a proxy): the middleware refuses it all the same.
    reached = []
    middleware = TextInputMiddleware(lambda request: reached.append(request) or HttpResponse())
    request = RequestFactory().get("/images")
    request.GET = QueryDict(mutable=True)
    request.GET["model"] = "sd\ud800"
    response = middleware(request)
    assert response.status_code == 400 and "lone surrogate" in response.content.decode()
    assert reached == []


# --- The real forms: a NUL in any field is refused and stores nothing ---


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice[0])
    return client


def test_a_transfer_with_a_nul_in_the_recipient_moves_nothing(alice_client, bob):
    before = Transaction.objects.count()
    response = alice_client.post("/kudos/", {"recipient": "bob\x00", "amount": "10"})
    assert_refused_as_bad_request(response, "/kudos/")
    assert Transaction.objects.count() == before


def test_a_generate_form_with_a_nul_in_the_prompt_stores_no_request(alice_client, demo):
    body = {"model": "stable_diffusion", "prompt": "a fox\x00", "width": "512", "height": "512", "steps": "20"}
    assert_refused_as_bad_request(alice_client.post("/generate", body), "/generate")
    assert not GenerationRequest.objects.exists()


def test_a_shared_key_form_with_a_nul_in_its_name_creates_no_key(alice_client, alice):
    response = alice_client.post("/profile/sharedkeys/create", {"name": "mine\x00", "kudos": "100"})
    assert_refused_as_bad_request(response, "/profile/sharedkeys/create")
    assert not SharedKey.objects.exists()


def test_a_sign_up_with_a_nul_in_the_username_creates_no_user(client, db):
    before = User.objects.count()
    body = {
        "username": "eve\x00",
        "email": "eve@example.com",
        "password1": "a-long-pass-9",
        "password2": "a-long-pass-9",
    }
    assert_refused_as_bad_request(client.post("/accounts/signup/", body), "/accounts/signup/")
    assert User.objects.count() == before


# --- Page query parameters go through a serializer or a form ---


@pytest.mark.parametrize("width", ["٣", "²", "9" * 5000, "1e3", "-512", " ", "512.5"])
def test_the_price_query_refuses_what_is_no_ascii_whole_number(client, demo, width):
    response = client.get("/generate/price", {"model": "stable_diffusion", "width": width, "height": 512, "steps": 30})
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest" and "width" in response.json()["message"]


def test_the_price_query_defaults_n_to_one_and_names_an_unknown_model(client, demo):
    priced = client.get("/generate/price", {"model": "stable_diffusion", "width": 512, "height": 512, "steps": 30})
    assert priced.status_code == 200 and priced.json()["images"] == 1
    unknown = client.get("/generate/price", {"model": "x" * 5000, "width": 512, "height": 512, "steps": 30})
    assert unknown.status_code == 400  # longer than any model name: refused by the serializer
    nameless = client.get("/generate/price", {"width": 512, "height": 512, "steps": 30})
    assert (nameless.status_code, nameless.json()["rc"]) == (404, "ModelNotFound")


@pytest.mark.parametrize("query", [{"again": "not-a-uuid"}, {"again": "1" * 5000}, {"model": "m" * 5000}])
def test_the_generate_page_ignores_link_values_that_do_not_fit(alice_client, demo, query):
    response = alice_client.get("/generate", query)
    assert response.status_code == 200
    assert response.context["form"].initial == alice_client.get("/generate").context["form"].initial


@pytest.mark.parametrize("query", [{"model": "m" * 5000}, {"judged": "sideways"}, {"judged": "waiting", "page": "x"}])
def test_my_images_ignores_filters_that_do_not_fit(alice_client, query):
    response = alice_client.get("/images", query)
    assert response.status_code == 200
    assert response.context["judged"] in {"", "waiting"}
    assert len(response.context["model"]) <= 200

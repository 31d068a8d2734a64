"""Image styles: staff make them in the admin, the API lists them (paged), and `style` in the
async body applies one through the one submit service, with the AI Horde's semantics."""

from __future__ import annotations

import json
import uuid

import pytest

from generation.models import GenerationRequest, Style
from kudos.selectors import user_balance

from .conftest import SD, SDXL, body

pytestmark = pytest.mark.django_db


def post(client, url, data, key):
    return client.post(url, data=json.dumps(data), content_type="application/json", HTTP_APIKEY=key)


def make_style(name="cinematic", **fields):
    defaults = {
        "prompt": "{p}, cinematic lighting###{np}, blurry",
        "params": {"steps": 12, "cfg_scale": 5.0, "sampler_name": "k_dpmpp_2m"},
        "model_names": [SD],
        "tags": ["film"],
    }
    return Style.objects.create(name=name, **{**defaults, **fields})


@pytest.fixture
def staff_client(client, make_user):
    staff, _ = make_user("staffer", is_staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client


def style_form(**overrides):
    data = {
        "name": "noir",
        "info": "black and white",
        "prompt": "{p}, film noir###{np}",
        "params": '{"steps": 25}',
        "model_names": f'["{SD}"]',
        "tags": '["film"]',
        "public": "on",
    }
    data.update(overrides)
    return data


def test_a_request_with_a_style_runs_its_template_params_and_models(demo_models, api_client, alice):
    style = make_style()
    asked = body(
        prompt="a lighthouse###fog",
        models=[SDXL],
        params={"steps": 40, "n": 2, "width": 640, "height": 576, "sampler_name": "k_euler"},
        style=str(style.id),
    )
    response = post(api_client, "/api/v2/generate/async", asked, alice[1])
    assert response.status_code == 202, response.content
    made = GenerationRequest.objects.get()
    assert made.prompt == "a lighthouse, cinematic lighting###fog, blurry"
    assert made.model.name == SD  # the style's models, not the request's
    assert (made.steps, made.params["cfg_scale"], made.params["sampler_name"]) == (12, 5.0, "k_dpmpp_2m")
    # The request's own n, and its size where the style sets none.
    assert (made.n, made.width, made.height) == (2, 640, 576)
    style.refresh_from_db()
    assert style.use_count == 1


def test_a_style_is_found_by_name_and_its_size_wins_over_the_requests(demo_models, api_client, alice):
    make_style(params={"width": 768, "height": 512}, prompt="{p}###{np}")
    response = post(api_client, "/api/v2/generate/async", body(style="cinematic"), alice[1])
    assert response.status_code == 202
    made = GenerationRequest.objects.get()
    # As on the AI Horde: an empty negative prompt leaves the template's "###" with nothing after it.
    assert (made.width, made.height, made.prompt) == (768, 512, "a red fox in the snow###")


def test_a_negative_prompt_stays_negative_when_the_template_has_no_negative_part(demo_models, api_client, alice):
    make_style(prompt="{p} in watercolour {np}")
    post(api_client, "/api/v2/generate/async", body(prompt="a cat###dogs", style="cinematic"), alice[1])
    assert GenerationRequest.objects.get().prompt == "a cat in watercolour ###dogs"


def test_the_requesters_braces_are_never_read_as_placeholders(demo_models, api_client, alice):
    make_style(prompt="{p} {seed} ###{np}")
    post(api_client, "/api/v2/generate/async", body(prompt="a {np} sign", style="cinematic"), alice[1])
    assert GenerationRequest.objects.get().prompt == "a {np} sign {seed} ###"


def test_a_dry_run_prices_the_styled_request_and_counts_no_use(demo_models, api_client, alice):
    style = make_style(params={"steps": 40})
    response = post(api_client, "/api/v2/generate/async", body(style="cinematic", dry_run=True), alice[1])
    plain = post(api_client, "/api/v2/generate/async", body(params={"steps": 40}, dry_run=True), alice[1])
    assert response.status_code == 200 and response.json() == plain.json()
    style.refresh_from_db()
    assert style.use_count == 0 and GenerationRequest.objects.count() == 0


@pytest.mark.parametrize("ref", ["no-such-style", str(uuid.uuid4())])
def test_an_unknown_style_is_404_thing_not_found_and_changes_nothing(demo_models, api_client, alice, ref):
    before = user_balance(user=alice[0])
    response = post(api_client, "/api/v2/generate/async", body(style=ref), alice[1])
    assert response.status_code == 404
    assert response.json()["rc"] == "ThingNotFound"
    assert GenerationRequest.objects.count() == 0 and user_balance(user=alice[0]) == before


@pytest.mark.parametrize("value", [5, ["cinematic"], {"id": 1}, "x" * 101, "ci\u0000nematic"])
def test_a_style_that_is_no_name_is_refused_as_bad_input(demo_models, api_client, alice, value):
    make_style()
    response = post(api_client, "/api/v2/generate/async", body(style=value), alice[1])
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest"
    assert GenerationRequest.objects.count() == 0


def test_a_styled_request_still_meets_the_models_rules(demo_models, api_client, alice):
    make_style(params={"steps": 500})  # over stable_diffusion's max_steps
    response = post(api_client, "/api/v2/generate/async", body(style="cinematic"), alice[1])
    assert (response.status_code, response.json()["rc"]) == (400, "TooManySteps")
    assert GenerationRequest.objects.count() == 0


def test_a_style_on_the_sdxl_beta_keeps_the_pairs_rules(demo_models, api_client, alice):
    make_style(model_names=[SDXL], params={"width": 1024, "height": 1024})
    assert post(api_client, "/api/v2/generate/async", body(style="cinematic"), "0000000000").status_code == 403
    response = post(api_client, "/api/v2/generate/async", body(style="cinematic", params={"n": 1}), alice[1])
    assert response.status_code == 202
    made = GenerationRequest.objects.get()
    assert (made.n, made.shared) == (2, True)
    assert len(set(made.jobs.values_list("pipeline", flat=True))) == 2


def test_the_list_is_paged_by_25_and_sorted_as_the_ai_horde(api_client):
    for index in range(30):
        make_style(name=f"style-{index:02}", tags=["odd" if index % 2 else "even"])
    Style.objects.filter(name="style-07").update(use_count=9)
    first = api_client.get("/api/v2/styles/image").json()
    second = api_client.get("/api/v2/styles/image?page=2").json()
    assert len(first) == 25 and len(second) == 5
    assert first[0]["name"] == "style-07"  # popular: most used first
    assert {style["name"] for style in first + second} == {f"style-{index:02}" for index in range(30)}
    assert api_client.get("/api/v2/styles/image?sort=age").json()[0]["name"] == "style-29"
    assert len(api_client.get("/api/v2/styles/image?tag=odd").json()) == 15
    assert api_client.get("/api/v2/styles/image?page=3").json() == []


def test_the_list_filters_by_model_and_leaves_out_styles_that_are_not_public(api_client):
    make_style(name="sd-style")
    make_style(name="beta-style", model_names=[SDXL])
    make_style(name="secret", public=False)
    assert [s["name"] for s in api_client.get(f"/api/v2/styles/image?model={SDXL}").json()] == ["beta-style"]
    assert "secret" not in {s["name"] for s in api_client.get("/api/v2/styles/image").json()}


def test_one_style_by_id_and_by_name_public_or_not(api_client):
    style = make_style(public=False, info="moody")
    by_id = api_client.get(f"/api/v2/styles/image/{style.id}")
    assert by_id.status_code == 200
    assert by_id.json() == api_client.get("/api/v2/styles/image_by_name/cinematic").json()
    details = by_id.json()
    assert (details["id"], details["prompt"], details["models"]) == (str(style.id), style.prompt, [SD])
    assert (details["params"], details["public"], details["info"]) == (style.params, False, "moody")


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v2/styles/image/{uuid.uuid4()}",
        "/api/v2/styles/image/not-a-uuid",
        "/api/v2/styles/image_by_name/nobody",
    ],
)
def test_an_unknown_style_is_404_thing_not_found(api_client, url):
    response = api_client.get(url)
    assert (response.status_code, response.json()["rc"]) == (404, "ThingNotFound")


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=%D9%A3",
        "page=1e3",
        "page=99999999999999999999",
        "sort=new",
        "tag=%00",
        "tag=" + "t" * 51,
    ],
)
def test_bad_list_queries_are_400_with_an_rc(api_client, query):
    make_style()
    response = api_client.get(f"/api/v2/styles/image?{query}")
    assert (response.status_code, response.json()["rc"]) == (400, "BadRequest")


def test_staff_make_a_style_in_the_admin(staff_client, api_client, demo_models):
    response = staff_client.post("/admin/generation/style/add/", style_form())
    assert response.status_code == 302, response.content[:1000]
    style = Style.objects.get()
    assert (style.params, style.model_names, style.creator.username) == ({"steps": 25}, [SD], "staffer")
    assert api_client.get("/api/v2/styles/image").json()[0]["creator"] == style.creator.horde_name


@pytest.mark.parametrize(
    "field, value",
    [
        ("prompt", "{p} without the negative"),
        ("prompt", "no placeholders ###{np}"),
        ("params", '{"steps": "many"}'),
        ("params", '{"width": 500}'),
        ("params", '{"seed": 5}'),
        ("params", '{"n": 2}'),
        ("params", "[1]"),
        ("model_names", '["no-such-model"]'),
        ("model_names", "[]"),
        ("tags", '["ok", 5]'),
    ],
)
def test_the_admin_refuses_a_style_a_request_could_not_use(staff_client, demo_models, field, value):
    response = staff_client.post("/admin/generation/style/add/", style_form(**{field: value}))
    assert response.status_code == 200  # the form again, with its error
    assert not Style.objects.exists()


def test_the_list_and_one_style_are_one_query_each(api_client, make_user, django_assert_num_queries):
    creator, _ = make_user("maker", is_staff=True)
    for index in range(5):
        make_style(name=f"style-{index}", creator=creator)
    with django_assert_num_queries(1):  # the page, with each creator joined
        assert len(api_client.get("/api/v2/styles/image").json()) == 5
    with django_assert_num_queries(1):
        assert api_client.get("/api/v2/styles/image_by_name/style-3").json()["creator"] == creator.horde_name

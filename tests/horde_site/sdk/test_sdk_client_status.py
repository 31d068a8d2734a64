"""The newest horde-sdk's own client (strict mode) calls the statistics, news and styles
endpoints and a styled request on a live Horde, as a client would: its request models build
the calls, its response models read the answers."""

from __future__ import annotations

import base64
import datetime
import io
import json
import os
import subprocess

import pytest
from django.core.management import call_command
from PIL import Image
from rest_framework.test import APIClient

from generation.models import GenerationRequest, Style
from site_status.models import NewsItem

from .strict import sdk_python

pytestmark = pytest.mark.django_db(transaction=True)
SD = "stable_diffusion"

CLIENT = r"""
import json, sys
from horde_sdk.ai_horde_api import apimodels as m
from horde_sdk.ai_horde_api.ai_horde_clients import AIHordeAPIManualClient
from horde_sdk.generic_api.apimodels import RequestErrorResponse

apikey, style_id = sys.argv[1], sys.argv[2]
client = AIHordeAPIManualClient()
out = {}
calls = {
    "performance": (m.HordePerformanceRequest(), m.HordePerformanceResponse),
    "totals": (m.ImageStatsModelsTotalRequest(), m.ImageStatsModelsTotalResponse),
    "models": (m.ImageStatsModelsRequest(), m.ImageStatsModelsResponse),
    "news": (m.NewsRequest(), m.NewsResponse),
    "styles": (m.AllStylesImageRequest(page=1), m.AllStylesImageResponse),
    "style": (m.SingleStyleImageByIDRequest(style_id=style_id), m.StyleStable),
    "style_by_name": (m.SingleStyleImageByNameRequest(style_name="cinematic"), m.StyleStable),
    "styled": (
        m.ImageGenerateAsyncRequest(
            apikey=apikey, prompt="a fox", models=["stable_diffusion"], style="cinematic",
            params=m.ImageGenerationInputPayload(width=512, height=512, steps=20),
        ),
        m.ImageGenerateAsyncResponse,
    ),
    "unknown_style": (
        m.ImageGenerateAsyncRequest(apikey=apikey, prompt="a fox", models=["stable_diffusion"], style="nope"),
        m.ImageGenerateAsyncResponse,
    ),
}
for name, (request, expected) in calls.items():
    answer = client.submit_request(request, expected)
    if isinstance(answer, RequestErrorResponse):
        out[name] = {"error": answer.rc}
    else:
        out[name] = {"type": type(answer).__name__, "data": answer.model_dump(mode="json", by_alias=True)}
print(json.dumps(out))
"""


def webp() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (512, 512), (5, 90, 200)).save(buffer, format="WEBP")
    return base64.b64encode(buffer.getvalue()).decode()


def test_the_sdk_client_reads_statistics_news_and_styles_and_sends_a_style(live_server, alice, bob, settings):
    call_command("seed_demo", stdout=io.StringIO())
    settings.HORDE_CELERY_DISPATCH = False
    api = APIClient()

    def post(url, data, key):
        return api.post(url, data=json.dumps(data), content_type="application/json", HTTP_APIKEY=key).json()

    post("/api/v2/generate/async", {"prompt": "a fox", "models": [SD], "params": {"steps": 10}}, alice[1])
    job = post("/api/v2/generate/pop", {"name": "bob-box", "models": [SD]}, bob[1])
    post("/api/v2/generate/submit", {"id": job["id"], "generation": webp()}, bob[1])
    NewsItem.objects.create(title="Beta", newspiece="Pairs.", date_published=datetime.date(2026, 11, 30))
    style = Style.objects.create(
        name="cinematic", prompt="{p}, cinematic###{np}", model_names=[SD], params={"steps": 12, "cfg_scale": 6.0}
    )

    result = subprocess.run(
        [sdk_python(), "-c", CLIENT, alice[1], str(style.id)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "TESTS_ONGOING": "1", "AI_HORDE_URL": f"{live_server.url}/api/"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["performance"]["type"] == "HordePerformanceResponse"
    assert got["performance"]["data"]["past_minute_megapixelsteps"] == round(512 * 512 * 10 / 1e6, 2)
    assert got["totals"]["data"]["total"] == {"images": 1, "ps": 512 * 512 * 10}
    assert got["models"]["data"]["total"] == {SD: 1}
    assert got["news"]["data"][0]["title"] == "Beta"
    assert [s["name"] for s in got["styles"]["data"]] == ["cinematic"]
    assert got["style"]["data"]["id"] == got["style_by_name"]["data"]["id"] == str(style.id)
    assert got["styled"]["type"] == "ImageGenerateAsyncResponse"
    made = GenerationRequest.objects.get(pk=got["styled"]["data"]["id"])
    assert (made.prompt, made.steps) == ("a fox, cinematic###", 12)
    assert got["unknown_style"] == {"error": "ThingNotFound"}

"""A page on another origin calls the API and downloads an image in Chromium, as ArtBot does."""

from __future__ import annotations

import io
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLIENT_PAGE = b"""<!doctype html><title>another origin</title>
<script>
async function run(api, key, image) {
  const headers = {apikey: key, "Client-Agent": "cors-test:1:horde-tests"};
  const out = {};
  out.heartbeat = (await fetch(api + "/api/v2/status/heartbeat")).status;
  out.user = (await (await fetch(api + "/api/v2/find_user", {headers})).json()).username;
  const body = JSON.stringify({prompt: "a cat", models: ["stable_diffusion"], dry_run: true});
  const priced = await fetch(api + "/api/v2/generate/async",
    {method: "POST", headers: {...headers, "Content-Type": "application/json"}, body});
  out.async = [priced.status, (await priced.json()).kudos > 0];
  const gone = await fetch(api + "/api/v2/generate/status/" + crypto.randomUUID(), {method: "DELETE", headers});
  out.cancel = [gone.status, (await gone.json()).rc];
  out.image = (await (await fetch(api + "/media/" + image)).arrayBuffer()).byteLength;
  return out;
}
</script>"""


@pytest.fixture
def horde_server(transactional_db):
    """Horde's WSGI application behind a real HTTP server, whole middleware stack included.

    (pytest-django's live_server answers /media/ itself, before any middleware, so it would
    hide what a deployment sends with an image.)"""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def other_origin():
    """A second web server (another port, so another origin) serving the client's page."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(CLIENT_PAGE)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("localhost", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()


def test_a_page_on_another_origin_uses_the_api_and_downloads_images(browser, horde_server, other_origin, alice):
    call_command("seed_demo", stdout=io.StringIO())
    image = default_storage.save(f"images/cors-test/{uuid.uuid4()}.webp", ContentFile(b"RIFF\x04\x00\x00\x00WEBP"))
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(other_origin)
        assert not other_origin.startswith(horde_server)  # really a different origin
        result = page.evaluate("([api, key, image]) => run(api, key, image)", [horde_server, alice[1], image])
    finally:
        context.close()
        default_storage.delete(image)
    assert result == {
        "heartbeat": 200,
        "user": alice[0].horde_name,
        "async": [200, True],
        "cancel": [404, "RequestNotFound"],
        "image": 12,
    }

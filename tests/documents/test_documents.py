"""GET /api/v2/documents/terms and /privacy (HordeDocument, format html|markdown), the /terms and
/privacy pages, staff editing them in the admin, and the Markdown renderer's safety."""

from __future__ import annotations

import pytest

from documents.models import Document
from documents.render import markdown_to_html

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["terms", "privacy"])
def test_a_document_comes_as_html_by_default_and_as_markdown_on_request(api_client, kind):
    html = api_client.get(f"/api/v2/documents/{kind}")
    assert html.status_code == 200
    assert list(html.json()) == ["html"] and html.json()["html"].startswith("<h1>")
    markdown = api_client.get(f"/api/v2/documents/{kind}?format=markdown")
    assert list(markdown.json()) == ["markdown"] and markdown.json()["markdown"].startswith("# ")


@pytest.mark.parametrize("query", ["format=pdf", "format=HTML", "format=%C2%B2", "format=html&format=x"])
def test_another_format_is_a_bad_request(api_client, query):
    response = api_client.get(f"/api/v2/documents/terms?{query}")
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest"


def test_staff_edit_a_document_in_the_admin_and_the_api_and_page_show_it(client, api_client, make_user):
    staff, _ = make_user("staffer", is_staff=True, password="pw-for-staff")
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    response = client.post(
        "/admin/documents/document/add/", {"kind": "terms", "markdown": "# Our terms\n\nBe **kind**."}
    )
    assert response.status_code == 302, response.content[:2000]
    assert Document.objects.get().kind == "terms"
    assert api_client.get("/api/v2/documents/terms?format=markdown").json() == {
        "markdown": "# Our terms\n\nBe **kind**."
    }
    assert api_client.get("/api/v2/documents/terms").json() == {
        "html": "<h1>Our terms</h1>\n<p>Be <strong>kind</strong>.</p>"
    }
    page = client.get("/terms").content.decode()
    assert "<h1>Our terms</h1>" in page and "<strong>kind</strong>" in page
    # The privacy policy is still the built-in one.
    assert "Privacy policy" in client.get("/privacy").content.decode()


def test_the_footer_of_every_page_links_the_documents(client):
    page = client.get("/").content.decode()
    assert 'href="/terms"' in page and 'href="/privacy"' in page


def test_the_renderer_makes_headings_lists_links_and_emphasis():
    source = "## Rules\n\n- one *two*\n- `code`\n\n1. first\n2. [site](https://example.org)\n\nplain\ntext"
    assert markdown_to_html(source) == (
        "<h2>Rules</h2>\n<ul><li>one <em>two</em></li><li><code>code</code></li></ul>\n"
        '<ol><li>first</li><li><a href="https://example.org">site</a></li></ol>\n<p>plain text</p>'
    )


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '[x](https://e.org" onmouseover="alert(1))',
        "`<b>` and **<i>**",
        "[x](//evil.example/)",
    ],
)
def test_the_renderer_lets_no_markup_of_the_source_through(hostile):
    html = markdown_to_html(hostile)
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "javascript:" not in html.split("href=")[-1] if "href=" in html else True
    assert 'href="//' not in html and 'onmouseover="' not in html and 'onerror="' not in html

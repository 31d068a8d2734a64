"""Staff download a finished export from the admin as one zip; nobody else, nothing unfinished,
nothing outside the export root."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.test import Client

from generation.models import ImageModel
from ratings.export import dataset_export_start
from ratings.models import DatasetExport
from tests.generation.pages.conftest import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    from accounts.models import User

    client.force_login(User.objects.create_superuser("staffer", "staff@example.com", "pw-not-used-123"))
    return client


def finished_export() -> DatasetExport:
    export = dataset_export_start(format="jsonl", since=None, requested_by=None)
    folder = Path(export.out_dir)
    (folder / "images").mkdir(parents=True)
    (folder / "ratings.jsonl").write_text('{"choice": "left"}\n')
    (folder / "images" / "abc.webp").write_bytes(b"RIFF....WEBP")
    DatasetExport.objects.filter(pk=export.pk).update(status=DatasetExport.Status.DONE)
    return DatasetExport.objects.get(pk=export.pk)


def test_staff_download_a_finished_export_as_one_zip_linked_from_the_list(staff_client):
    export = finished_export()
    listing = staff_client.get("/admin/ratings/datasetexport/").content.decode()
    assert f'href="/ratings/exports/{export.pk}/download">Download zip<' in listing
    response = staff_client.get(f"/ratings/exports/{export.pk}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    name = Path(export.out_dir).name
    assert f'filename="{name}.zip"' in response["Content-Disposition"]
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(bundle.namelist()) == [f"{name}/images/abc.webp", f"{name}/ratings.jsonl"]
    assert bundle.read(f"{name}/ratings.jsonl") == b'{"choice": "left"}\n'


def test_an_unfinished_export_has_no_link_and_no_download(staff_client):
    export = dataset_export_start(format="jsonl", since=None, requested_by=None)
    assert (
        f"/ratings/exports/{export.pk}/download"
        not in staff_client.get("/admin/ratings/datasetexport/").content.decode()
    )
    assert staff_client.get(f"/ratings/exports/{export.pk}/download").status_code == 404


def test_a_folder_outside_the_export_root_is_never_served(staff_client, tmp_path):
    export = finished_export()
    DatasetExport.objects.filter(pk=export.pk).update(out_dir=str(tmp_path))
    assert staff_client.get(f"/ratings/exports/{export.pk}/download").status_code == 404


def test_only_staff_may_download(alice):
    export = finished_export()
    client = Client()
    assert client.get(f"/ratings/exports/{export.pk}/download").status_code == 302  # to the admin log-in
    client.force_login(alice[0])
    response = client.get(f"/ratings/exports/{export.pk}/download")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_request_list_shows_the_prompt(staff_client, make_user):
    model = ImageModel.objects.create(name="plain", queue="plain_q")
    submit(make_user("alice2", kudos=1000)[0], model, prompt="a quiet harbour at night", width=64, height=64, steps=1)
    html = staff_client.get("/admin/generation/generationrequest/").content.decode()
    assert "a quiet harbour at night" in html


def test_the_admin_index_has_one_accounts_section(staff_client):
    html = staff_client.get("/admin/").content.decode()
    sections = re.findall(r'title="Models in the ([^"]+) application"', html)
    # allauth's e-mail addresses live in ours now (tests/accounts/test_admin.py): one section.
    assert "Accounts" not in sections
    assert sections.count("Users and API keys") == 1  # users, keys, e-mail addresses, kudos adjustments

"""Staff download a finished dataset export as one zip (a link in the admin's export list)."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404

from .export import export_root
from .models import DatasetExport


@staff_member_required
def export_download(request: HttpRequest, export_id: int) -> FileResponse:
    export = get_object_or_404(DatasetExport, pk=export_id, status=DatasetExport.Status.DONE)
    folder = Path(export.out_dir).resolve()
    root = export_root().resolve()
    # The folder is the server's choice, but a row edited by hand must not open the rest of the disk.
    if root not in folder.parents or not folder.is_dir():
        raise Http404("This export's files are not on this server.")
    archive = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it when sent)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:  # webp is compressed already
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                bundle.write(path, Path(folder.name) / path.relative_to(folder))
    archive.seek(0)
    return FileResponse(archive, as_attachment=True, filename=f"{folder.name}.zip", content_type="application/zip")

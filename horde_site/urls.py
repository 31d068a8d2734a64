from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView, TemplateView
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from documents import views as documents_views
from moderation.dashboard import dashboard_view
from ratings import views_images

from . import api_errors, ops

api_v2 = [
    path("", include("accounts.api_urls")),
    path("", include("kudos.api_urls")),
    path("", include("site_status.api_urls")),
    path("", include("generation.api_urls")),
    path("", include("ratings.api_urls")),
    path("", include("moderation.api_urls")),
    path("", include("documents.api_urls")),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    # Browsers ask for /favicon.ico whatever the page links: one answer, not a 404 per page.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("healthz", ops.health, name="health"),
    path("terms", documents_views.terms, name="terms"),
    path("privacy", documents_views.privacy, name="privacy"),
    path("metrics", ops.metrics, name="metrics"),
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("profile/", include("accounts.urls")),
    path("kudos/", include("kudos.urls")),
    # Images by request: pairs together, and "waiting for your verdict" is the ratings app's to know.
    path("images", views_images.my_images, name="my_images"),
    path("gallery", views_images.gallery, name="gallery"),
    path("", include("generation.urls")),
    path("ratings/", include("ratings.urls")),
    path("api/v2/", include(api_v2)),
    path("api/v1/", include("aesthetics.api_urls")),
    path("rate/", include("aesthetics.urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]


def media(request, path: str):
    # MEDIA_ROOT read per request, not when the URLconf was imported: the file storage reads it
    # late too, so a changed setting (the tests' temporary media folders) moves both together.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    # Images are served by Horde itself unless object storage is configured.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", media)]

handler400 = api_errors.handler400
handler404 = api_errors.handler404
handler500 = api_errors.handler500

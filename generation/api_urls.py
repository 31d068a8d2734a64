"""API URLs (/api/v2/...) of the generation app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api, api_stats, api_status, api_styles, api_teams, api_workers

urlpatterns = [
    path("generate/async", api.GenerateAsyncApi.as_view(), name="generate-async"),
    path("generate/check/<str:request_id>", api.GenerateCheckApi.as_view(), name="generate-check"),
    path("generate/status/<str:request_id>", api.GenerateStatusApi.as_view(), name="generate-status"),
    path("generate/pop", api.GeneratePopApi.as_view(), name="generate-pop"),
    path("generate/submit", api.GenerateSubmitApi.as_view(), name="generate-submit"),
    path("generate/pipeline/<str:job_id>", api.GeneratePipelineApi.as_view(), name="generate-pipeline"),
    path("generate/r2/<str:job_id>", api.GenerateR2UploadApi.as_view(), name="generate-r2-upload"),
    path("status/heartbeat", api_status.HeartbeatApi.as_view(), name="status-heartbeat"),
    path("status/models", api_status.ModelsStatusApi.as_view(), name="status-models"),
    path("status/performance", api_stats.PerformanceApi.as_view(), name="status-performance"),
    path("stats/img/models", api_stats.StatsImgModelsApi.as_view(), name="stats-img-models"),
    path("stats/img/totals", api_stats.StatsImgTotalsApi.as_view(), name="stats-img-totals"),
    path("styles/image", api_styles.StylesImageApi.as_view(), name="styles-image"),
    path("styles/image/<str:style_id>", api_styles.StyleImageApi.as_view(), name="style-image"),
    path("styles/image_by_name/<str:style_name>", api_styles.StyleImageByNameApi.as_view(), name="style-image-by-name"),
    path("workers", api_status.WorkersApi.as_view(), name="workers"),
    # Before workers/{id}: "messages" and "name" are not worker ids.
    path("workers/messages", api_workers.WorkerMessagesApi.as_view(), name="worker-messages"),
    path("workers/messages/<str:message_id>", api_workers.WorkerMessageApi.as_view(), name="worker-message"),
    path("workers/name/<str:worker_name>", api_workers.WorkerByNameApi.as_view(), name="worker-by-name"),
    path("workers/<str:worker_id>", api_workers.WorkerApi.as_view(), name="worker"),
    path("teams", api_teams.TeamsApi.as_view(), name="teams"),
    path("teams/<str:team_id>", api_teams.TeamApi.as_view(), name="team"),
]

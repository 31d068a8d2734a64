"""API URLs (/api/v2/...) of the generation app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api, api_status

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
    path("workers", api_status.WorkersApi.as_view(), name="workers"),
    path("workers/<str:worker_id>", api_status.WorkerApi.as_view(), name="worker"),
]

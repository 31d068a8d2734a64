"""Admin of the ratings app."""

from __future__ import annotations

from .admin_export import DatasetExportAdmin

__all__ = ["DatasetExportAdmin"]

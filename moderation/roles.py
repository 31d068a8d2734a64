"""The Moderators group: exactly the permissions moderators need, and nothing else.

Moderators are staff users (admin access needs `is_staff`) in this group. They handle
reports, hide images and delete their files, suspend requesters, flag workers, edit the
prompt filters and read the audit trail. Not in it: kudos adjustments (they need
`accounts.change_user`), users' other fields, site settings, models, pipelines, exports.

`moderators_group_sync(apps)` is called by data migrations with the migration state's
apps; it creates permission rows that do not exist yet (Django creates them only after
all migrations ran) and sets the group's permissions to exactly this list. A model not
in that state yet (the prompt filters, added later) is skipped: a later migration that
depends on it calls the sync again.
"""

from __future__ import annotations

from typing import Any

from accounts.models import User

GROUP_NAME = "Moderators"
MODERATORS_GROUP = GROUP_NAME

# "app_label.codename" of every permission the group holds.
MODERATOR_PERMISSIONS = (
    "moderation.view_report",
    "moderation.change_report",  # dismissing reports
    "moderation.view_reportedimage",  # the queue
    "moderation.hide_image",
    "moderation.suspend_user",
    "moderation.flag_worker",
    "moderation.view_auditentry",
    "moderation.view_promptfilter",
    "moderation.add_promptfilter",
    "moderation.change_promptfilter",
    "moderation.delete_promptfilter",
)


def _permission_names(model: Any) -> dict[str, str]:
    meta = model._meta
    names = {
        f"{action}_{meta.model_name}": f"Can {action} {meta.verbose_name_raw}" for action in meta.default_permissions
    }
    names.update(dict(meta.permissions))
    return names


def moderators_group_sync(apps: Any) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    granted = []
    for dotted in MODERATOR_PERMISSIONS:
        app_label, codename = dotted.split(".", 1)
        model = next((m for m in apps.get_app_config(app_label).get_models() if codename in _permission_names(m)), None)
        if model is None:
            continue  # its model is not in this migration state yet
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model._meta.model_name)
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": _permission_names(model)[codename][:255]}
        )
        granted.append(permission)
    group.permissions.set(granted)


def is_moderator(user: User) -> bool:
    """Staff (or superusers) and members of the Moderators group; never the anonymous user."""
    if not user.is_active or user.is_anonymous_horde_user:
        return False
    return user.is_staff or user.is_superuser or user.groups.filter(name=MODERATORS_GROUP).exists()

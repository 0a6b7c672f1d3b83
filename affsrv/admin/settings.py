"""/admin/settings: the configuration in force (the owner's only), read-only, with every
secret shown as set or not set and URLs without their passwords (``affsrv.config``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from affsrv.admin.views import bp, owner_only
from affsrv.config import shown_settings


@bp.get("/settings", endpoint="settings")
def settings_page() -> Any:
    owner_only("the configuration")
    return render_template("admin/settings.html",
                           sections=shown_settings(current_app.config["AFFSRV"]))

"""Mounting the UI into the team server's app: its routers, and the session layer.

``gannet.server.app.create_app`` calls ``mount_ui(api)`` beside the API's routers and wraps
its middleware in ``with_sessions``; both faces then share one app, one port, one auth.
"""

from __future__ import annotations

from typing import Any

from gannet.ui.session import PUBLIC_UI, SessionKey, UiSessions, load_key

__all__ = ["UI_PUBLIC_PATHS", "UI_PUBLIC_PREFIXES", "mount_ui", "with_sessions"]

# the server's middleware asks no credentials of these (the login page, and single sign-on)
UI_PUBLIC_PATHS = ("/ui/login", "/ui/login/sso", "/ui/login/sso/callback")
UI_PUBLIC_PREFIXES = tuple(p for p in PUBLIC_UI if p.endswith("/"))


def mount_ui(api: Any) -> None:
    """Add the UI's routers (one per capability) to the FastAPI app ``api``."""
    from gannet.ui.routes import (
        admin,
        bulk,
        compare,
        data,
        deployments,
        experiments,
        features,
        home,
        launch,
        login,
        models,
        monitoring,
        pipelines,
        runs,
        training,
    )

    settings = api.state.services.settings
    api.state.ui_key = SessionKey(load_key(settings.ui_secret, settings.home))
    for module in (home, login, experiments, bulk, runs, compare, models, deployments,
                   data, launch, pipelines, monitoring, training, features, admin):
        api.include_router(module.router)


def with_sessions(app: Any, api: Any) -> Any:
    """``app`` (the server's middleware) behind the UI's session layer."""
    wrapped = UiSessions(app, api.state.ui_key, auth=api.state.auth_required)
    wrapped.api = api  # type: ignore[attr-defined]  # as create_app's answer has
    return wrapped

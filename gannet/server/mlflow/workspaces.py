"""MLflow 3's workspaces are Gannet's projects.

An MLflow client with a workspace set (``MLFLOW_WORKSPACE=risk`` or
``mlflow.set_workspace("risk")``) first asks ``/api/3.0/mlflow/server-info`` whether the
server has workspaces, then sends the workspace in the ``X-MLFLOW-WORKSPACE`` header of
every request. Here it names the project that a new experiment or registered model goes
to (the caller needs the editor role there); without it they go to the ``project``
setting's, else ``default``. Reading is not narrowed by it: a caller sees what every
project they are a member of holds, as through Gannet's own API. ``server-info`` also says
there are no multipart uploads, so the client streams each file in one request.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gannet.server.mlflow.messages import ok

__all__ = ["WORKSPACE_HEADER", "router", "workspace_of"]

WORKSPACE_HEADER = "x-mlflow-workspace"

router = APIRouter(tags=["mlflow: server"])


def workspace_of(request: Request) -> str | None:
    """The project a request's MLflow workspace names (None: the server's default)."""
    return request.headers.get(WORKSPACE_HEADER) or None


@router.get("/server-info", summary="What this server supports (MLflow 3's clients ask)")
def server_info() -> Response:
    return ok({
        "store_type": "SqlStore",
        "workspaces_enabled": True,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
    })

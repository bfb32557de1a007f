"""A server that does nothing: every MLflow tracking call answered at once with a fixed
answer (a search with the bytes Gannet's server gave for it), so that the same client
doing the same work against it measures the client's own cost, the floor under any
server's time. ``python bench/canned_server.py PORT SEARCH_ANSWER_FILE``."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

RUN = (b'{"run": {"info": {"run_id": "r", "run_uuid": "r", "experiment_id": "0", '
       b'"status": "RUNNING", "start_time": 1, "lifecycle_stage": "active", '
       b'"artifact_uri": "mlflow-artifacts:/0/r/artifacts"}, "data": {}}}')


def app_answering(search: bytes):
    answers = {"/runs/search": search, "/runs/create": RUN, "/runs/get": RUN,
               "/experiments/create": b'{"experiment_id": "0"}'}

    async def app(scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass  # read (and drop) what was sent, as a server must
        path: str = scope["path"]
        body = next((a for suffix, a in answers.items() if path.endswith(suffix)), b"{}")
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


if __name__ == "__main__":
    port, search_file = int(sys.argv[1]), Path(sys.argv[2])
    uvicorn.run(app_answering(search_file.read_bytes()), host="127.0.0.1", port=port,
                log_level="error", http="httptools")

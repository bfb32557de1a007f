"""The remote backend: the same services' calls, over a team server's REST API.

With ``GANNET_URI=http://host:5005`` (the ``uri`` setting) ``bootstrap.build`` returns
``RemoteServices`` instead of stores: its ``tracking``, ``registry``, ``deployments`` and
``auth`` have the methods of the services they stand for, so the SDK and the CLI work
unchanged against a server.

- ``transport``: ``Transport`` - one HTTP connection pool, the token, retries with
  backoff on connection errors and 5xx, idempotency keys, errors back to their classes
- ``services``: ``RemoteServices``
- ``tracking``: ``RemoteTracking`` (its artifact calls in ``artifacts``)
- ``batches``: ``BatchSender``, the log buffer's writes, each landing exactly once
- ``blobs``: ``BlobClient``, files up and down, content-addressed, streamed, resumed
- ``auth``: ``RemoteAuth`` (users, tokens, projects, roles, the audit log)
- ``registry``: ``RemoteRegistry`` (and ``packages``: a package's upload, download into the
  local cache, and the keys that verify it)
- ``deployments``: ``RemoteDeployments``
- ``logs``: ``RemoteInferenceLog``, the inference log's queries and feedback
- ``validation``: ``RemoteValidation`` (tables validated here, reports stored there)
- ``data``: ``RemoteData`` (datasets; their files up and down in ``data_files``)
- ``monitoring``: ``RemoteMonitors`` and ``RemoteAlerts``
- ``features``: ``RemoteFeatures`` (definitions, materialization, online values)
- ``training``: ``RemoteTraining`` (policies and decisions; the server's controller acts)
"""

from gannet.remote.services import RemoteServices

__all__ = ["RemoteServices"]

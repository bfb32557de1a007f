"""The REST API's routers, one per capability, each a thin face over its service.

- ``health``: ``/health``, ``/ready``
- ``tracking``: experiments
- ``runs``: runs, logging to them (batches with ids, so retries land once), search
- ``artifacts``: content-addressed, streamed uploads (``/api/v1/blobs/{digest}``) and
  ranged downloads of runs' artifacts
- ``auth``: who am I, users, API tokens, projects and members, roles, the audit log
- ``registry``: registered models, versions, aliases, approvals, gates, promotion, cards
- ``packages``: signing keys' public halves; a package's upload and download
- ``deployments``: deployments, their revisions, rollback, the bundle
- ``logs``: the inference log's queries and feedback
- ``data``: validation reports stored (the run tagged) and listed
- ``training``: continuous-training policies and the decisions of their loops
- ``datasets``: the dataset catalogue, versions (added from uploaded blobs, read file by
  file), tags, diffs and lineage
- ``monitors``: monitors, their runs and reports (JSON, the HTML page); alert rules,
  history and silences
- ``features``: feature definitions (list, show, apply), materialization, online values
- ``oidc``: single sign-on with OpenID Connect (the login redirect and its callback)
"""

"""The REST API's routers, one per capability, each a thin face over its service.

- ``health``: ``/health``, ``/ready``
- ``tracking``: experiments
- ``runs``: runs, logging to them (batches with ids, so retries land once), search
- ``artifacts``: content-addressed, streamed uploads (``/api/v1/blobs/{digest}``) and
  ranged downloads of runs' artifacts
- ``auth``: who am I, users, API tokens, projects and members, roles, the audit log
"""

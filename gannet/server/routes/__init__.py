"""The REST API's routers, one per capability, each a thin face over its service.

- ``health``: ``/health``, ``/ready``
- ``tracking``: experiments (runs, metrics, artifacts)
- ``auth``: who am I, users, API tokens, projects and members, roles, the audit log
"""

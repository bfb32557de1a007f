"""The command line: Typer commands, one module per capability, each a thin face over one
service call of the same name (docs/vocabulary.md).

- ``app``: the ``gannet`` command, global options, error handling and exit codes
- ``output``: tables, ``--json`` documents, errors and progress bars
- ``experiments``, ``runs``, ``artifacts``: tracking
- ``models``: the registry; ``responsible``: its ``explain``, ``fairness``, ``sensitive``;
  ``security``: signing keys, roles, the audit log
- ``deployments``, ``serve``, ``inference`` (``predict``, ``logs``): serving
- ``imports``: ``gannet import mlflow`` (another tool's history copied in)
- ``people``: ``gannet users``, ``tokens`` and ``projects`` (who may use a team server)
- ``server``: ``gannet server``, the team server
- ``ui``: ``gannet ui``, the web UI (that server's app on loopback, no logins)
- ``login``: ``gannet login`` (a token, or single sign-on) and ``gannet logout``; the
  sign-in's token comes back to ``loopback``, a listener on 127.0.0.1
- ``data``: ``gannet data``; ``data_quality``: its ``validate`` and ``profile``;
  ``catalogue``: its ``catalogue`` (datasets and feature views)
- ``pipelines``: ``gannet pipeline show|run|resume|inspect``; ``schedules``: ``gannet
  schedule create|list|runs|delete`` and ``gannet scheduler``
- ``features``: ``gannet features`` (the feature store: apply, diff, list, show,
  materialize)
- ``monitor``: monitors of deployments (drift, quality, performance), their reports,
  metrics and Grafana dashboard; ``alerts``: alert rules, their state and history
- ``policies``: ``gannet policy`` (continuous-training policies: apply, dry-run, list,
  status, history, pause, resume, approve, delete) and ``gannet controller``
- ``gc``: garbage collection of the stores; ``db``: the metadata store's schema
"""

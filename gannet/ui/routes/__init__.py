"""The UI's routers, one per capability; each route is one service call (a page showing
two things, such as a deployment and its history, two).

- ``home``: the root page, pages of capabilities not in the UI yet, static files
- ``login``: logging in and out (team mode)
- ``experiments``: experiments, and one experiment's runs table
- ``bulk``: tagging and deleting the runs ticked in a runs table
- ``runs``: a run (charts, params, tags, environment) and its artifacts
- ``compare``: runs side by side (curves, parallel coordinates, params diff)
- ``models``: registered models, versions, cards; promotion (gates first)
- ``deployments``: traffic split, revisions; roll back
- ``data``: the dataset catalogue, versions (files, schema, profile charts, validations,
  usage) and diffs of two versions
- ``pipelines``: pipeline runs, a run's DAG with step status and logs (live while it
  runs), schedules
- ``launch``: running a pipeline this server knows, with parameters, from a form
- ``monitoring``: monitors per deployment, their reports over time, the HTML report, alerts
- ``training``: continuous-training policies (stages, where the loop is, decisions and
  the challenger's traffic over time); approve a stage, pause, resume
- ``features``: entities and feature views (schema, source, ttl, owner, freshness)
- ``admin``: users, projects and their members, tokens, the audit log; an admin creates
  users and projects, grants and revokes roles, revokes tokens
"""

"""Tracking: experiments, runs, params, metrics, tags, artifacts, environment capture, autolog.

- ``types``: Experiment, Run, RunInfo, RunData, Metric, FileInfo, Page, Pending, ...
- ``tables`` / ``repository``: the tables and their SQL (``artifact_repository``: the
  artifact index's, and what garbage collection asks of it)
- ``service``: ``TrackingService``, the use cases and rules (runs, logging, search);
  ``experiments`` and ``artifacts``: the experiment and artifact use cases it inherits
  (and what garbage collection needs of artifacts)
- ``validation``: what a key, value or artifact path may be
- ``batches``: batches sent from elsewhere (a remote SDK): checked again, written once
  by their id (``batch_repository``: the ids' SQL)
- ``query`` / ``filter_parser``: the search language (MLflow's) and the SQL it becomes;
  ``grammars``: what each search language names (runs', experiments', logged models');
  ``filter_match``: a parsed filter applied to plain values (searches of small collections)
- ``logged_models`` / ``logged_model_repository``: MLflow 3's logged models (what an MLflow
  client's ``log_model`` makes): their use cases (inherited by the service) and their SQL
- ``environment``: packages, platform and git state of a run; ``names``: run names
- ``access``: who may read or change an experiment or run on a team server
  (``project_repository``: its SQL)
- ``autolog``: scikit-learn, XGBoost, LightGBM and Lightning training logged without a line
"""

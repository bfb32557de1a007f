"""training: continuous-training policies that retrain, gate, canary and promote or roll
back a registered model on their own, recording why at every step.

- ``types``: ``Policy`` (``Trigger``, ``PipelineSpec``, ``Evaluation``, ``Stage``,
  ``Guards``), ``PolicyStatus`` and its ``Phase``, ``Decision``, ``TickReport``
- ``policy``: the YAML schema, read and checked without the stores; ``${dataset}``
  substitution in pipeline parameters
- ``checks``: what a policy names must exist (model, deployment, pipeline, datasets,
  alert rules, monitors, gates); the dry run
- ``tables`` / ``repository``: policies and their loop's state, decisions, the
  controller's lease - all of its SQL
- ``triggers``: alert firings, cron windows, new dataset versions, performance floors
- ``evaluation``: challenger against champion on the same held-out rows
- ``signals``: guard metrics from the servers' Prometheus counters and the inference log
- ``controller``: one policy's loop (``Loop``); ``rollout``: its canary stages
- ``access``: who may read, apply, change, approve or delete a policy on a team server
  (the roles of its model's project)
- ``service``: ``TrainingService`` - apply, list, status, history, pause, resume,
  approve, dry run, ``tick`` under the lease, and ``run_controller`` (ticks until stopped)
"""

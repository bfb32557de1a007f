"""The Python SDK face.

- ``fluent``: ``gannet.start_run()``, ``gannet.log_metric(...)`` and friends over one client
- ``client``: ``GannetClient``, made of ``tracking`` (``TrackingMethods``, ``RunPage``),
  ``registry`` (``RegistryMethods``), ``deployments`` (``DeploymentMethods``) and
  ``interop`` (``InteropMethods``: ``import_mlflow``) and ``data_quality``
  (``DataQualityMethods``: ``validate_data``, ``profile_data``): each
  ``interop`` (``InteropMethods``: ``import_mlflow``) and ``pipelines``
  (``PipelineMethods``: ``run_pipeline``, ``resume_pipeline``, ...): each
  method one service call of the same name; ``training`` (``TrainingMethods``:
  ``apply_policy``, ``list_decisions``, ``approve_policy``, ``tick``, ...)
- ``responsible``: ``ResponsibleMethods`` of the client: ``explain_model_version``,
  ``compute_fairness``, ``set_sensitive_attributes``, ``get_version_reports``
- ``monitor``: ``gannet.monitor.drift`` and ``gannet.monitor.quality`` on DataFrames
- ``buffer``: the log buffer that makes ``log_metric`` cost microseconds
- ``autolog_sink``: where ``gannet.autolog()`` logs (the active run, or one it starts)
"""

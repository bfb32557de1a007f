"""monitoring: deployments watched from their inference log - drift, data quality,
performance with delayed labels - and alerts.

- ``types``: ``Monitor``, ``MonitorOptions``, ``MonitorReport``, ``RunSummary``
- ``tables`` / ``repository``: monitors, their reports (a time series), alert rules,
  states and events in the metadata store - all of its SQL
- ``log_repository``: the DuckDB queries a run makes over the inference log
- ``reference``: references from DataFrames, Parquet/CSV files or windows of the log,
  kept as Parquet blobs (``dataset_reference``: the hook for dataset versions)
- ``windows``: hour, day, or the last N rows
- ``evaluate``: one window's report (drift, prediction drift, quality, performance by
  slice, label delay) and its flat metrics
- ``service``: ``MonitorService`` - create, run (incrementally), show, list, delete
- ``page``: a report as one self-contained HTML page with Plotly plots
- ``prometheus``: monitor outputs as Prometheus metrics; ``grafana``: a dashboard
- ``alerts/``: rules, notifiers, ``AlertService``

The drift and quality tests themselves live in ``gannet.stats``; ``gannet.monitor`` runs
them on plain DataFrames.
"""

"""stats: numeric building blocks over numpy/scipy, pyarrow and DuckDB for data and
monitoring.

- ``table_repository``: ``open_table``: a Parquet file or folder, a CSV file, an Arrow
  table or a pandas/polars DataFrame as the DuckDB view ``data``
- ``profile``: ``Profile``: schema, row count, per-column nulls, distinct counts, range,
  moments, quantiles, histograms and top categories (stable JSON)
- ``drift``: the drift tests, one function each (KS, Wasserstein, chi-square, PSI,
  Jensen-Shannon), ``TESTS`` with their default thresholds, Benjamini-Hochberg
- ``columns``: DataFrames (pandas, polars, Arrow) read into prepared columns: numeric
  ones sorted once, categorical ones counted
- ``dataset_drift``: ``drift(reference, current)`` -> ``DriftReport`` (a test per column
  by its type, Evidently's defaults, the share of drifted columns)
- ``quality``: ``quality(reference, current)`` -> ``QualityReport`` (nulls, out of range,
  unseen categories, schema violations, too few rows)
- ``performance``: accuracy, precision/recall/F1, ROC AUC, log loss, RMSE, MAE in numpy
- ``html``: reports as HTML tables for Jupyter
- ``fairness``: ``fairness_report``: per-group metrics (selection rate, TPR/FPR,
  precision, error rate, calibration; RMSE/MAE) and disparities, intersections, small groups
"""

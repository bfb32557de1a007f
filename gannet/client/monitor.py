"""``gannet.monitor``: drift and data quality on plain DataFrames, for notebooks.

>>> report = gannet.monitor.drift(reference_df, current_df)
>>> report.drifted_columns
['age', 'plan']

The same tests a deployment's monitors run (``gannet monitor``, docs/monitoring.md).
"""

from __future__ import annotations

from gannet.stats.dataset_drift import ColumnDrift, DriftReport, drift
from gannet.stats.quality import QualityReport, quality

__all__ = ["ColumnDrift", "DriftReport", "QualityReport", "drift", "quality"]

"""stats: numeric building blocks over pyarrow and DuckDB.

- ``table_repository``  ``open_table``: a Parquet file or folder, a CSV file, an Arrow table
                    or a pandas/polars DataFrame as the DuckDB view ``data``
- ``profile``       ``Profile``: schema, row count, per-column nulls, distinct counts,
                    range, moments, quantiles, histograms and top categories (stable JSON)
"""

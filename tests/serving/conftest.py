"""Serving tests, laid out as ``gannet/serving``: ``deployments/``, ``server/``, ``log/``.

The helpers here (``waiting``) are shared by the sub-folders: pytest's default import
mode puts this conftest's folder on ``sys.path``, as it does each test file's folder
(``server/server_fixtures.py``, ``deployments/iris_models.py``).
"""

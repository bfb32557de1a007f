"""Generated tables and the suite of the issue, shared by the validation tests."""

SUITE = """\
checks:
  - {check: not_null, column: age}
  - {check: between, column: age, min: 0, max: 120}
  - {check: unique, column: id}
  - {check: row_count, min: 1000}
"""


def people(rows: int = 2000, *, seed: int = 0, bad: bool = False):
    """A pandas DataFrame of people; ``bad``: a null age, an age of 130, a repeated id."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": np.arange(rows, dtype="int64"),
        "age": rng.integers(0, 100, rows).astype("float64"),
        "city": rng.choice(["Lyon", "Oslo", "Porto"], rows),
        "email": [f"user{i}@example.com" for i in range(rows)],
        "signed_up": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(rows), unit="h"),
    })
    if bad:
        frame.loc[3, "age"] = None
        frame.loc[7, "age"] = 130.0
        frame.loc[11, "id"] = 10
    return frame

"""Time as the stores keep it: integer milliseconds since the Unix epoch (as MLflow does)."""

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000

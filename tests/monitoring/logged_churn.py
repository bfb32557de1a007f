"""A toy churn model's traffic, written to an inference log with the log's own writer at
chosen times (monitors read it as they read a server's)."""

import numpy as np

HOUR = 3_600_000


def churn_rows(n, *, shift=0.0, seed=0):
    """Features of a toy churn model, its predictions and probabilities, and true labels."""
    rng = np.random.default_rng(seed)
    tenure = rng.normal(24 + shift, 6, n)
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1] if not shift
                      else [0.2, 0.3, 0.5])
    score = 1 / (1 + np.exp((tenure - 24) / 4))
    truth = (rng.uniform(size=n) < score).astype(int)
    return {"tenure": tenure, "plan": plan}, (score > 0.5).astype(int), score, truth


def write_log(root, deployment, hour_start, n, *, shift=0.0, seed=0, request_prefix="r"):
    """``n`` single-row requests logged across the hour starting at ``hour_start`` (ms);
    returns (request ids, true labels)."""
    from gannet.serving.log import InferenceLogWriter, LoggedPrediction

    inputs, predictions, score, truth = churn_rows(n, shift=shift, seed=seed)
    writer = InferenceLogWriter(root, flush_interval=3600)
    ids = []
    for i in range(n):
        request_id = f"{request_prefix}-{hour_start}-{i}"
        ids.append(request_id)
        writer.log(LoggedPrediction(
            deployment=deployment, model=deployment, version=1, request_id=request_id,
            timestamp_ms=hour_start + i * (HOUR // n), latency_ms=1.0,
            inputs={"tenure": [float(inputs["tenure"][i])], "plan": [str(inputs["plan"][i])]},
            outputs=np.array([predictions[i]]),
            probabilities=np.array([[1 - score[i], score[i]]])))
    assert writer.flush(timeout=60)
    writer.close()
    return ids, truth

"""``gannet serve``: run the inference server (being built)."""

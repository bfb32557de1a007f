"""Tracking: experiments, runs, params, metrics, tags, artifacts, environment capture, autolog."""

"""User code a pickled model refers to (importable by the loading side)."""


def double(x):
    return x * 2

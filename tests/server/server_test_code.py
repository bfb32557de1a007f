def double(x):
    """A function of the tests' own: a pipeline using it saves as a pickle."""
    return x * 2

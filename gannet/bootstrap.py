"""The composition root: settings -> stores -> services."""

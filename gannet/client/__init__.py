"""The Python SDK face: fluent functions and the GannetClient class."""

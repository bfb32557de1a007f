"""The REST API's routers, one per capability, each a thin face over its service."""

"""auth: not built yet (see ARCHITECTURE.md)."""

"""stats: not built yet (see ARCHITECTURE.md)."""

"""lineage: not built yet (see ARCHITECTURE.md)."""

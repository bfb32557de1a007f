"""training: not built yet; see ARCHITECTURE.md for what belongs here."""

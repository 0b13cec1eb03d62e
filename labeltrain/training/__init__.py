"""labeltrain.training layer (see docs/ARCHITECTURE.md)."""

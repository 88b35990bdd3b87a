"""Plain helpers (no models): importing them registers nothing, so models may use them in any order."""

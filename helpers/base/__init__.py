"""Used by every layer, the sandbox too: errors, paths, regions, waits (no kit imports)."""

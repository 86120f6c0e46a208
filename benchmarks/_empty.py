"""An empty module: the floor of the import scenario (what any import costs)."""

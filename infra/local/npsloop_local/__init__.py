"""The local stack and the npsloop command: everything that runs npsloop without AWS (never shipped in the layer)."""

"""torchbridge runtime: the Python process that owns torch tensors for a TypeScript client."""

__version__ = "0.1.0"

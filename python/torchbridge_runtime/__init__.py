"""torchbridge runtime: the Python process that owns torch tensors for a TypeScript client."""

__version__ = "0.1.0"


def __getattr__(name):
    # torchbridge_runtime.CallbackError (a TS callback threw) without importing torch with the package
    if name == "CallbackError":
        from .callbacks import CallbackError

        return CallbackError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

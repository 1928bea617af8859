"""Python context managers entered from TS (torch.py.with, torch.py.enter + `await using`).

`with` looks __enter__ and __exit__ up on the type, not the instance; so do these.
"""


class JSError(Exception):
    """A TS exception thrown in the body of a `with`, as __exit__ sees it. Its message is the
    TS error's ('TypeError: boom'); `stack` holds the TS stack."""

    def __init__(self, message, stack=""):
        super().__init__(message)
        self.stack = stack


def enter(cm, /):
    cls = type(cm)
    if not hasattr(cls, "__enter__") or not hasattr(cls, "__exit__"):
        raise TypeError(f"'{cls.__module__}.{cls.__qualname__}' object does not support the context manager protocol")
    return cls.__enter__(cm)


def exit_(cm, exc, /):
    """cm.__exit__ for a body that ended normally (exc None) or raised exc (a Python exception,
    or [message, stack] of a TS one, raised here as JSError); True when __exit__ suppresses it."""
    if exc is None:
        return bool(type(cm).__exit__(cm, None, None, None))
    if isinstance(exc, list):
        exc = JSError(*exc)
    if not isinstance(exc, BaseException):
        raise TypeError(f"__exit__ needs an exception, got {type(exc).__name__}")
    # raised and caught, so it carries a traceback as one from a with-body does
    try:
        raise exc
    except BaseException as e:  # noqa: BLE001
        return bool(type(cm).__exit__(cm, type(e), e, e.__traceback__))


HELPERS = {
    "enter": enter,
    "exit": exit_,
}

"""Python's builtins on proxied objects (torch.py.len, contains, repr, isinstance, type,
delitem) and the user's directories on sys.path (torch.init({ pythonPath })).

Each takes its arguments positionally only, like the helpers in pyobjects.py.
"""

import importlib
import os
import sys


def py_len(obj, /):
    return len(obj)


def py_contains(obj, item, /):
    return item in obj


def py_repr(obj, /):
    return repr(obj)


def py_isinstance(obj, cls, /):
    return isinstance(obj, cls)


def py_type(obj, /):
    return type(obj)


def del_item(obj, key, /):
    del obj[key]


def sys_path(dirs, /):
    """Put the client's directories first on sys.path, in the order given (as PYTHONPATH does).

    A directory this runtime cannot see (a served runtime on another host or in a container
    sees its own file system, not the client's) is an error rather than a silent no-op, so the
    first import of the user's package does not fail with a puzzling ModuleNotFoundError.
    """
    missing = [d for d in dirs if not os.path.isdir(d)]
    if missing:
        raise FileNotFoundError(
            f"torch.init({{ pythonPath }}): {', '.join(missing)} is not a directory on the runtime's host "
            f"(pid {os.getpid()}); a served runtime sees its own file system"
        )
    for d in reversed(dirs):
        if d in sys.path:
            sys.path.remove(d)
        sys.path.insert(0, d)
    # a module looked up before the path changed (and not found) is cached as missing
    importlib.invalidate_caches()


HELPERS = {
    "len": py_len,
    "contains": py_contains,
    "repr": py_repr,
    "isinstance": py_isinstance,
    "type": py_type,
    "delitem": del_item,
    "sys_path": sys_path,
}

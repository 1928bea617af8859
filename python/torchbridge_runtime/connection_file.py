"""The connection file a served runtime writes for its clients (like a Jupyter kernel's):

  {"transport": "zmq", "ops": "tcp://127.0.0.1:PORT", "control": "tcp://127.0.0.1:PORT2",
   "server_public_key": Z85, "client_public_key": Z85, "client_secret_key": Z85,
   "session_grace_s": 30, "pid": 1234}

Whoever can read it can use the runtime (it holds the client's secret key), so it is created
0600 from the start: os.open with the mode, written to a temporary name and renamed, so a
reader never sees half a file and an old file's wider mode is never reused.
"""

import json
import os
import tempfile


def default_path():
    """$XDG_RUNTIME_DIR/torchbridge/runtime-PID.json, else a private directory under /tmp."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    directory = os.path.join(base, f"torchbridge-{os.getuid()}")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    st = os.stat(directory)
    if st.st_uid != os.getuid() or st.st_mode & 0o077:  # someone else's, or open to others: not for our keys
        raise ValueError(f"{directory} is not a private directory of this user: give --connection-file a path in one")
    return os.path.join(directory, f"runtime-{os.getpid()}.json")


def write(path, info):
    path = os.path.abspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return path


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

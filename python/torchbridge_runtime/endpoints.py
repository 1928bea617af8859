"""Where a served runtime listens: `--bind tcp://HOST:PORT` or `--bind ipc://PATH`, and the rules
that keep it private.

- tcp:// without CURVE is allowed on a loopback address only: anyone who can reach the port
  can run torch code (and so any code) in the runtime.
- ipc:// sockets live in a directory only this user can enter (created 0700; an existing
  directory that others can enter is refused, never chmod'ed: it may be /tmp). The socket
  files, and the directory when we made it, are removed when the runtime exits.
"""

import ipaddress
import os
import socket
import stat
from dataclasses import dataclass, field


@dataclass
class Bind:
    scheme: str  # 'tcp' or 'ipc'
    host: str = ""  # tcp
    port: int = 0  # tcp; 0: pick a free one
    path: str = ""  # ipc
    made_dir: str = ""  # ipc: the directory we created (removed at exit)
    files: list = field(default_factory=list)  # ipc socket files to remove at exit


def parse(bind):
    if bind.startswith("tcp://"):
        rest = bind[len("tcp://") :]
        host, sep, port = rest.rpartition(":")
        if not sep or not host:
            raise ValueError(f"--bind {bind}: expected tcp://HOST:PORT (PORT 0 picks a free port)")
        try:
            port_n = int(port)
        except ValueError:
            port_n = -1
        if not 0 <= port_n <= 65535:
            raise ValueError(f"--bind {bind}: the port must be a number from 0 to 65535 (0 picks a free port)")
        return Bind("tcp", host=host.strip("[]"), port=port_n)
    if bind.startswith("ipc://"):
        path = bind[len("ipc://") :]
        if not path.startswith("/"):
            raise ValueError(f"--bind {bind}: expected an absolute path, ipc:///dir/name.sock")
        return Bind("ipc", path=path)
    raise ValueError(f"--bind {bind}: expected tcp://HOST:PORT or ipc:///PATH")


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_curve(b, curve):
    """Refuse a network bind that anyone on the network could use."""
    if b.scheme == "tcp" and not curve and not is_loopback(b.host):
        raise ValueError(
            f"refusing to serve tcp://{b.host}:{b.port} without CURVE: anyone who can reach that address could "
            "run code in this runtime. Drop --no-curve (keys are made for you and written to the connection "
            "file), or bind to 127.0.0.1."
        )


def tcp_endpoints(b):
    """The ops and control endpoints to bind (a free port for control, and for ops with port 0)."""
    host = f"[{b.host}]" if ":" in b.host else b.host
    return f"tcp://{host}:{b.port or '*'}", f"tcp://{host}:*"


def ipc_endpoints(b):
    """Prepare the private directory; the ops socket at PATH, control beside it."""
    directory = os.path.dirname(b.path)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
        b.made_dir = directory
    st = os.stat(directory)
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise ValueError(
            f"the ipc socket directory {directory} can be entered by other users (mode {stat.S_IMODE(st.st_mode):o}): "
            "give --bind a path in a private directory (one that does not exist yet is created 0700), "
            "e.g. ipc:///tmp/torchbridge-mine/runtime.sock"
        )
    root, ext = os.path.splitext(b.path)
    control = f"{root}-control{ext or '.sock'}"
    for p in (b.path, control):
        if os.path.exists(p):
            raise ValueError(f"{p} exists: another runtime may be serving there; remove it if not")
    b.files = [b.path, control]
    return f"ipc://{b.path}", f"ipc://{control}"


def reachable(endpoint):
    """What a client should connect to: a wildcard bind is named by this host's name."""
    for wildcard in ("tcp://0.0.0.0:", "tcp://[::]:"):
        if endpoint.startswith(wildcard):
            return f"tcp://{socket.gethostname()}:{endpoint[len(wildcard):]}"
    return endpoint


def cleanup(b):
    for p in b.files:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
    if b.made_dir:
        try:
            os.rmdir(b.made_dir)
        except OSError:
            pass  # someone put something else there: leave it

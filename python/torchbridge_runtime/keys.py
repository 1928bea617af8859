"""CURVE key pairs for a served runtime: as files (`torchbridge-runtime serve --keys DIR`), or
made fresh in memory for one run (no --keys: nothing is left behind, even after SIGKILL; the
connection file is then the only copy of the client's key).

DIR/server.key, DIR/server.key_secret     the runtime's key pair
DIR/client.key, DIR/client.key_secret     the pair written into the connection file for clients
DIR/authorized/*.key                      client public keys the runtime lets in

Files use ZeroMQ's certificate format (what zmq.auth reads). Missing pairs are created; secret
files are created 0600 by os.open (never chmod'ed afterwards, so they are never readable by
others, not even for a moment), the directory 0700.
"""

import os
import stat

import zmq
import zmq.auth

AUTHORIZED = "authorized"


def _private_dir(path):
    os.makedirs(path, mode=0o700, exist_ok=True)
    st = os.stat(path)
    if st.st_mode & 0o077:
        raise ValueError(
            f"the key directory {path} is accessible to other users (mode {stat.S_IMODE(st.st_mode):o}): "
            f"run `chmod 700 {path}` or give --keys a private directory"
        )


def _write_new(path, text, mode):
    """Create path with `mode` from the start; an old file is replaced, never reused."""
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _cert(public, secret=None):
    lines = ["# torchbridge runtime CURVE key", "metadata", "curve", f'    public-key = "{public.decode()}"']
    if secret is not None:
        lines.append(f'    secret-key = "{secret.decode()}"')
    return "\n".join(lines) + "\n"


def _pair(directory, name):
    """(public, secret) of DIR/name, created when missing."""
    secret_file = os.path.join(directory, name + ".key_secret")
    if not os.path.exists(secret_file):
        public, secret = zmq.curve_keypair()
        _write_new(os.path.join(directory, name + ".key"), _cert(public), 0o600)
        _write_new(secret_file, _cert(public, secret), 0o600)
    public, secret = zmq.auth.load_certificate(secret_file)
    if not public or not secret:
        raise ValueError(f"{secret_file} holds no CURVE key pair; delete it to have a new one made")
    return public, secret


def ensure_keys(directory):
    """The server and client key pairs in `directory` (made if missing), and the directory of
    authorized client public keys (the client pair's public key is always among them)."""
    _private_dir(directory)
    server_public, server_secret = _pair(directory, "server")
    client_public, client_secret = _pair(directory, "client")
    authorized = os.path.join(directory, AUTHORIZED)
    _private_dir(authorized)
    own = os.path.join(authorized, "client.key")
    if not os.path.exists(own):
        _write_new(own, _cert(client_public), 0o600)
    return {
        "server_public": server_public,
        "server_secret": server_secret,
        "client_public": client_public,
        "client_secret": client_secret,
        "authorized": authorized,
    }


def ephemeral_keys():
    """Fresh server and client key pairs, in memory only; the client's is the one authorized."""
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    return {
        "server_public": server_public,
        "server_secret": server_secret,
        "client_public": client_public,
        "client_secret": client_secret,
        "authorized": None,
    }


class OnlyKey:
    """A zmq.auth credentials provider letting in one client public key (Z85)."""

    def __init__(self, public):
        self.public = public

    def callback(self, domain, key):
        return key == self.public

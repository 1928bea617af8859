"""POSIX shared-memory segments, created 0600 and unlinked as soon as both sides map them.

Deliberately not multiprocessing.shared_memory: its resource tracker unlinks segments
that belong to other processes.
"""

import glob
import mmap
import os

import torch

SHM_DIR = "/dev/shm"


def create(name, nbytes):
    """Create and map a new segment; the caller's peer unlinks it once mapped."""
    fd = os.open(os.path.join(SHM_DIR, name), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, nbytes)
        os.posix_fallocate(fd, 0, nbytes)  # fail with ENOSPC now, not SIGBUS on first write
        return mmap.mmap(fd, nbytes, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0))
    finally:
        os.close(fd)


def open_and_unlink(name, nbytes):
    """Map a segment the client made, then remove its name: nothing can leak from here on."""
    path = os.path.join(SHM_DIR, name)
    fd = os.open(path, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        if size < nbytes:
            raise ValueError(f"shared-memory segment {name} holds {size} bytes, expected {nbytes}")
        return mmap.mmap(fd, nbytes, flags=mmap.MAP_SHARED)
    finally:
        os.close(fd)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def sweep(prefix):
    """Unlink every segment whose name starts with prefix (this session's leftovers)."""
    for path in glob.glob(os.path.join(SHM_DIR, glob.escape(prefix) + "*")):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def tensor_over(buf, dtype, shape):
    """A tensor sharing memory with buf (mmap or bytearray)."""
    numel = 1
    for s in shape:
        numel *= s
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(buf, dtype=dtype, count=numel).reshape(shape)


def probe(name, nonce):
    """Whether this process sees the client's /dev/shm: the client made segment `name` holding
    `nonce` (a served runtime may be on another host, or in a container without a shared
    /dev/shm; then bulk data travels inline). The name is unlinked either way."""
    if not isinstance(name, str) or "/" in name or not isinstance(nonce, (bytes, bytearray)) or not nonce:
        return False
    path = os.path.join(SHM_DIR, name)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        return os.read(fd, len(nonce)) == bytes(nonce)
    except OSError:
        return False
    finally:
        os.close(fd)
        try:
            os.unlink(path)
        except OSError:
            pass

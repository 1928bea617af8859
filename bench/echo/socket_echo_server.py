"""Transport comparison for the benchmarks: the echo of echo_server.py over a plain Unix domain
socket instead of ZeroMQ (no I/O threads: the kernel wakes the reader directly). Each message is
a 4-byte little-endian length and msgpack; the reply is the message decoded and re-encoded.
Usage: python socket_echo_server.py PATH. Prints "ready" once listening; exits on stdin EOF.
"""
import os
import socket
import struct
import sys
import threading

import msgpack


def recv_exact(conn, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def main() -> None:
    path = sys.argv[1]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    print("ready", flush=True)

    def watch_parent() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    conn, _ = server.accept()
    packb, unpackb = msgpack.packb, msgpack.unpackb
    while True:
        head = recv_exact(conn, 4)
        if head is None:
            os._exit(0)
        reply = packb(unpackb(recv_exact(conn, struct.unpack("<I", head)[0])))
        conn.sendall(struct.pack("<I", len(reply)) + reply)


if __name__ == "__main__":
    main()

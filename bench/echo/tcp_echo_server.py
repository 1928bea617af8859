"""The raw TCP floor for a served runtime's benchmarks: a plain socket on 127.0.0.1 (no ZeroMQ,
no encryption), length-prefixed msgpack (4-byte little-endian length), answered as
bulk_echo.answer says. Usage: python tcp_echo_server.py. Prints "ready PORT" once listening;
exits on stdin EOF or SIGTERM.
"""

import os
import socket
import struct
import sys
import threading

from bulk_echo import answer


def recv_exact(conn, n):
    buf = bytearray(n)  # one buffer filled in place: no concatenation of pieces
    view = memoryview(buf)
    got = 0
    while got < n:
        k = conn.recv_into(view[got:], n - got)
        if k == 0:
            return None
        got += k
    return buf


def main() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    print(f"ready {server.getsockname()[1]}", flush=True)

    def watch_parent() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    conn, _ = server.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        head = recv_exact(conn, 4)
        if head is None:
            os._exit(0)
        reply = answer(recv_exact(conn, struct.unpack("<I", head)[0]))
        conn.sendall(struct.pack("<I", len(reply)))
        conn.sendall(reply)


if __name__ == "__main__":
    main()

"""The ZeroMQ floor for a served runtime's benchmarks: a pyzmq ROUTER on tcp://127.0.0.1 with
CURVE (as `torchbridge-runtime serve` binds), answering msgpack as bulk_echo.answer says.
Usage: python zmq_tcp_echo_server.py SERVER_PUBLIC SERVER_SECRET (Z85 keys; no ZAP handler:
any client key is let in). Prints "ready PORT" once bound; exits on stdin EOF or SIGTERM.
"""

import os
import sys
import threading

import zmq

from bulk_echo import answer


def main() -> None:
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.linger = 0
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.setsockopt(zmq.RCVHWM, 0)
    sock.curve_server = True
    sock.curve_publickey = sys.argv[1].encode()
    sock.curve_secretkey = sys.argv[2].encode()
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    print(f"ready {port}", flush=True)

    def watch_parent() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    while True:
        ident, msg = sock.recv_multipart(copy=False)
        sock.send_multipart([ident.bytes, answer(msg.buffer)], copy=False)


if __name__ == "__main__":
    main()

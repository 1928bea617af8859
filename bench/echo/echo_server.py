"""Transport floor for the benchmarks: a pyzmq ROUTER that decodes each msgpack message and
re-encodes it as the reply, nothing else. Usage: python echo_server.py ENDPOINT

Prints "ready" once bound. Exits when stdin closes (the Node parent went away) or on SIGTERM.
"""
import os
import sys
import threading

import msgpack
import zmq


def main() -> None:
    endpoint = sys.argv[1]
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.linger = 0
    # Unlimited queues, as the runtime sets them: a ROUTER silently DROPS replies to a peer
    # whose queue is at the high-water mark (default 1000), which loses pipelined replies.
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.setsockopt(zmq.RCVHWM, 0)
    sock.bind(endpoint)
    print("ready", flush=True)

    def watch_parent() -> None:
        sys.stdin.read()  # EOF when the parent closes the pipe or dies
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    packb, unpackb = msgpack.packb, msgpack.unpackb
    while True:
        ident, msg = sock.recv_multipart()
        sock.send_multipart([ident, packb(unpackb(msg))])


if __name__ == "__main__":
    main()

"""python -m torchbridge_runtime (--fds OPS,CONTROL | --endpoint ipc://... --control ipc://...) --session ID --shm-prefix P

A child runtime talks to its client over the inherited Unix socket pairs --fds names (the
default), or over ZeroMQ endpoints it binds (TORCHBRIDGE_TRANSPORT=zmq on the client).
"""

import argparse
import json
import sys

MISSING_EXIT_CODE = 3  # the client turns this into "this Python has no torch: here is the fix"


def main():
    parser = argparse.ArgumentParser(prog="torchbridge_runtime")
    parser.add_argument("--fds", help="inherited socket fds: OPS,CONTROL")
    parser.add_argument("--endpoint")
    parser.add_argument("--control")
    parser.add_argument("--session", required=True)
    parser.add_argument("--shm-prefix", required=True)
    parser.add_argument("--no-parent-watch", action="store_true")
    args = parser.parse_args()

    missing = []
    for module in ("torch", "numpy", "zmq", "msgpack"):
        try:
            __import__(module)
        except ImportError as e:
            missing.append(f"{module} ({e})")
    if missing:
        sys.stderr.write("TORCHBRIDGE_MISSING " + json.dumps({"python": sys.executable, "missing": missing}) + "\n")
        sys.stderr.flush()
        sys.exit(MISSING_EXIT_CODE)

    from .links import SocketLink, ZmqLink
    from .server import Server

    if args.fds:
        ops_fd, control_fd = (int(x) for x in args.fds.split(","))
        link, control = SocketLink(ops_fd), SocketLink(control_fd)
    elif args.endpoint and args.control:
        import zmq

        ctx = zmq.Context()
        link, control = ZmqLink(ctx, args.endpoint), ZmqLink(ctx, args.control)
    else:
        parser.error("give --fds, or --endpoint and --control")
    server = Server(link, control, args.session, args.shm_prefix)
    if not args.no_parent_watch:
        server.watch_parent()
    server.serve()


if __name__ == "__main__":
    main()

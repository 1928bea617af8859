"""python -m torchbridge_runtime (--fds OPS,CONTROL | --endpoint ipc://... --control ipc://...) --session ID --shm-prefix P
   torchbridge-runtime serve [...]     (or python -m torchbridge_runtime serve; see serve.py)

A child runtime talks to its client over the inherited Unix socket pairs --fds names (the
default), or over ZeroMQ endpoints it binds (TORCHBRIDGE_TRANSPORT=zmq on the client).
`serve` starts a runtime on its own that clients connect to.
"""

import argparse
import json
import sys

MISSING_EXIT_CODE = 3  # the client turns this into "this Python has no torch: here is the fix"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        from .serve import block_signals, main as serve

        block_signals()  # before torch starts threads of its own (see serve.py)
        _exit_if_missing(child=False)
        return serve(argv[1:])

    parser = argparse.ArgumentParser(
        prog="torchbridge_runtime",
        description="A child runtime, started by its TypeScript client. To serve clients that connect: torchbridge-runtime serve --help",
    )
    parser.add_argument("--fds", help="inherited socket fds: OPS,CONTROL")
    parser.add_argument("--endpoint")
    parser.add_argument("--control")
    parser.add_argument("--session", required=True)
    parser.add_argument("--shm-prefix", required=True)
    parser.add_argument("--no-parent-watch", action="store_true")
    args = parser.parse_args(argv)
    _exit_if_missing(child=True)

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


def _exit_if_missing(child):
    missing = []
    for module in ("torch", "numpy", "zmq", "msgpack"):
        try:
            __import__(module)
        except ImportError as e:
            missing.append(f"{module} ({e})")
    if not missing:
        return
    if child:  # the client turns this line into its own error, with the fix
        sys.stderr.write("TORCHBRIDGE_MISSING " + json.dumps({"python": sys.executable, "missing": missing}) + "\n")
    else:
        sys.stderr.write(f"torchbridge-runtime: {sys.executable} lacks {', '.join(missing)}; pip install torch numpy pyzmq msgpack\n")
    sys.stderr.flush()
    sys.exit(MISSING_EXIT_CODE)


if __name__ == "__main__":
    main()

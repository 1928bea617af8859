"""python -m torchbridge_runtime --endpoint ipc://... --control ipc://... --session ID --shm-prefix P"""

import argparse
import json
import sys

MISSING_EXIT_CODE = 3  # the client turns this into "this Python has no torch: here is the fix"


def main():
    parser = argparse.ArgumentParser(prog="torchbridge_runtime")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--control", required=True)
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

    from .server import Server

    server = Server(args.endpoint, args.control, args.session, args.shm_prefix)
    if not args.no_parent_watch:
        server.watch_parent()
    server.serve()


if __name__ == "__main__":
    main()

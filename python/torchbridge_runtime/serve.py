"""torchbridge-runtime serve: a runtime started on its own, that TypeScript clients connect to
with torch.init({ connect: CONNECTION_FILE }) or TORCHBRIDGE_CONNECT=CONNECTION_FILE.

  torchbridge-runtime serve [--bind tcp://127.0.0.1:0] [--connection-file PATH] [--keys DIR]
                            [--grace 30] [--no-curve] [--one-client]

tcp:// uses CURVE: the runtime has a server key pair and a client key pair (files in --keys DIR,
made there if missing; without --keys, fresh ones in memory for this run) and lets in only the
client public keys in DIR/authorized/ (without --keys: the one client key it made). The connection file (0600) holds what a client needs, the client's secret
key included: whoever can read it can use the runtime, as with a Jupyter connection file.

Once listening it prints one line on stdout:
  torchbridge-runtime: serving tcp://127.0.0.1:PORT, connection file PATH
and runs until SIGTERM/SIGINT, or, with --one-client, until its one client's session ends.
On exit it removes the connection file and its ipc socket files.
"""

import argparse
import os
import signal
import sys
import threading

DEFAULT_GRACE_S = 30.0
_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def _parser():
    p = argparse.ArgumentParser(
        prog="torchbridge-runtime serve",
        description="Serve a torchbridge runtime that TypeScript clients connect to (torch.init({ connect: FILE })).",
    )
    p.add_argument("--bind", default="tcp://127.0.0.1:0", help="tcp://HOST:PORT (PORT 0: a free port; CURVE) or ipc:///PATH (default: %(default)s)")
    p.add_argument("--connection-file", help="where to write the connection file (default: $XDG_RUNTIME_DIR or /tmp, torchbridge-UID/runtime-PID.json)")
    p.add_argument("--keys", help="directory of CURVE key files, created if missing (default: fresh keys in memory for this run)")
    p.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE_S,
        help="free a session whose client sent no message and no ping for this many seconds (default: %(default)g)",
    )
    p.add_argument("--no-curve", action="store_true", help="tcp:// without CURVE: only on a loopback address")
    p.add_argument("--one-client", action="store_true", help="serve one client and exit when its session ends")
    return p


def block_signals():
    """Signals go to one thread that cleans up, whatever the main thread is running (a long op
    holds it): block them before any thread exists (torch's and ZeroMQ's), so all inherit that."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)


def _fail(msg):
    sys.stderr.write(f"torchbridge-runtime serve: error: {msg}\n")
    sys.exit(2)


def main(argv):
    args = _parser().parse_args(argv)
    from . import connection_file, endpoints

    if not args.grace > 0:
        _fail("--grace must be a positive number of seconds")
    try:
        bind = endpoints.parse(args.bind)
        curve = bind.scheme == "tcp" and not args.no_curve
        endpoints.check_curve(bind, curve)
        if args.keys and not curve:
            raise ValueError("--keys is for tcp:// with CURVE (an ipc:// runtime is private by its directory)")
    except ValueError as e:
        _fail(str(e))

    block_signals()  # (again, for callers other than __main__)

    import torch  # noqa: F401 -- imported before listening: the first client does not wait for it
    import zmq

    from .host import Host

    ctx = zmq.Context()
    state = {"conn": None, "host": None}
    exiting = threading.Lock()

    def exit_process(code):
        if not exiting.acquire(blocking=False):
            return
        from . import shm

        host = state["host"]
        for s in list(host.sessions.values()) if host else []:
            shm.sweep(s.prefix)
        endpoints.cleanup(bind)
        if state["conn"]:
            connection_file.remove(state["conn"])
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def on_signals():
        sig = signal.sigwait(_SIGNALS)
        sys.stderr.write(f"torchbridge-runtime: stopping ({signal.Signals(sig).name})\n")
        exit_process(0)

    threading.Thread(target=on_signals, name="torchbridge-signals", daemon=True).start()

    try:
        info = {"transport": "zmq"}
        keys = None
        if curve:
            from zmq.auth.thread import ThreadAuthenticator

            from .keys import OnlyKey, ensure_keys, ephemeral_keys

            keys = ensure_keys(os.path.abspath(args.keys)) if args.keys else ephemeral_keys()
            auth = ThreadAuthenticator(ctx)
            auth.start()
            if keys["authorized"]:
                auth.configure_curve(domain="*", location=keys["authorized"])
            else:
                auth.configure_curve_callback(domain="*", credentials_provider=OnlyKey(keys["client_public"]))

        def router():
            s = ctx.socket(zmq.ROUTER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVHWM, 0)
            s.setsockopt(zmq.SNDHWM, 0)
            s.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a reconnecting client takes its identity back
            if ":" in bind.host:
                s.setsockopt(zmq.IPV6, 1)
            if keys:
                s.curve_server = True
                s.curve_publickey = keys["server_public"]
                s.curve_secretkey = keys["server_secret"]
            return s

        ops, control = router(), router()
        ops_ep, control_ep = endpoints.tcp_endpoints(bind) if bind.scheme == "tcp" else endpoints.ipc_endpoints(bind)
        ops.bind(ops_ep)
        control.bind(control_ep)
        info["ops"] = endpoints.reachable(ops.getsockopt(zmq.LAST_ENDPOINT).decode())
        info["control"] = endpoints.reachable(control.getsockopt(zmq.LAST_ENDPOINT).decode())
        info["server_public_key"] = keys["server_public"].decode() if keys else None
        info["client_public_key"] = keys["client_public"].decode() if keys else None
        info["client_secret_key"] = keys["client_secret"].decode() if keys else None
        info["session_grace_s"] = args.grace
        info["pid"] = os.getpid()
        state["conn"] = connection_file.write(args.connection_file or connection_file.default_path(), info)
        host = state["host"] = Host(ctx, ops, control, args.grace, args.one_client, exit_process)
    except (ValueError, OSError, zmq.ZMQError) as e:
        sys.stderr.write(f"torchbridge-runtime serve: error: {e}\n")
        exit_process(2)

    print(
        f"torchbridge-runtime: serving {info['ops']}{' (CURVE)' if keys else ''}, connection file {state['conn']}",
        flush=True,
    )
    print(f"  connect with torch.init({{ connect: '{state['conn']}' }}) or TORCHBRIDGE_CONNECT={state['conn']}", flush=True)
    try:
        host.serve()
    except BaseException:  # noqa: BLE001 -- a runtime bug: say so and exit non-zero, cleaning up
        import traceback

        traceback.print_exc()
        exit_process(70)

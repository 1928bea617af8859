"""A served session's side of surviving a dropped connection (DESIGN §1).

ZeroMQ reconnects a dropped TCP connection by itself, but what was in flight on the dropped
connection is lost, in either direction. A client that numbers its messages (its ops messages
carry a header frame, protocol.py) gets, from its session's Resume:

- every batch run exactly once: a duplicate (a batch sent again) is dropped; a batch that
  arrives after a gap is held until the gap is filled, and the client is told at once which
  batches did not arrive;
- every reply message numbered and kept until the client says it has seen it, so the ones
  lost in a drop can be sent again when the client asks for them.

Stream messages (chunked bulk data, streams.py) are numbered with the batches and replies, in
the same sequences: a payload here is then a (stream header, body) tuple.

Every notice says how many reply messages were sent before it, on the same connection: the
client, when it reads one, knows exactly which replies were lost (not merely still on their way)
and asks for those alone.

Acknowledgements: every reply message and every notice carries `received` (the client may drop
batches up to it); every client batch, sync and control ping carries `seen` (we may drop reply
messages up to it). Main thread only, except `seen_control` (written by the control thread).
"""

from collections import deque

from .codec import pack


class Resume:
    __slots__ = ("_send", "received", "_held", "_asked", "replied", "_kept", "seen", "seen_control", "log")

    def __init__(self, send, log):
        self._send = send  # send(payload, header): one message to this session's client
        self.log = log  # log(line): rare events (a loss, a resend), for whoever runs the runtime
        self.received = 0  # every batch numbered up to this one has arrived
        self._held = {}  # batch -> payload, arrived after a gap
        self._asked = -1  # the `received` after which we last asked for batches again
        self.replied = 0  # reply messages sent, numbered 1..replied
        self._kept = deque()  # (reply, payload) the client has not said it has seen
        self.seen = 0  # from the client's ops messages: it has every reply message up to this one
        self.seen_control = 0  # the same, from its control pings

    def accept(self, header, payload):
        """A message from the client: the batches now ready to run, in order (often just its
        own payload; none for a duplicate, a held batch or a sync)."""
        batch = header[0]
        self._note_seen(header[1])
        if batch == 0:  # a sync: [0, seen, sent] or [0, seen, sent, again]
            if len(header) > 3:
                self._send_again(header[3])
            self._notice(header[2] if len(header) > 2 else self.received)
            return ()
        received = self.received
        if batch == received + 1:
            ready = [payload]
            held = self._held
            received = batch
            while held:
                p = held.pop(received + 1, None)
                if p is None:
                    break
                ready.append(p)
                received += 1
            self.received = received
            return ready
        if batch > received and batch not in self._held:  # after a gap: what came between was lost
            self._held[batch] = payload
            if self._asked != received:
                self._asked = received
                self._notice(batch - 1)
        return ()  # (else a duplicate: sent again, and already here)

    def _send_again(self, up_to):
        """The client lost the reply messages after the ones it has seen, up to `up_to`."""
        seen = max(self.seen, self.seen_control)
        again = [(n, p) for n, p in self._kept if seen < n <= up_to]
        if len(again) < min(up_to, self.replied) - seen:  # (cannot happen: only the client's own acknowledgements let go)
            self.log(f"cannot send reply messages {seen + 1}-{up_to} again: only {len(again)} of them are kept")
        if again:
            self.log(f"sending reply messages {again[0][0]}-{again[-1][0]} again (lost in a dropped connection)")
        for n, p in again:
            if p.__class__ is tuple:  # a stream message: (stream header, body)
                self._send(p[1], pack([n, self.received, *p[0]]))
            else:
                self._send(p, pack([n, self.received]))

    def _notice(self, up_to):
        """[0, received, up_to, replied]: batches received+1..up_to did not arrive, send them
        again (none when up_to <= received: then it is an acknowledgement); `replied` reply
        messages were sent before this notice. The answer to a sync (up_to: the batches the
        client had sent before it, on the same connection), or sent when a batch arrives after
        a gap (up_to: the batch before it)."""
        if up_to > self.received:
            self.log(f"batches {self.received + 1}-{up_to} did not arrive (a dropped connection); asked the client to send them again")
        self._send(b"", pack([0, self.received, up_to, self.replied]))

    def _note_seen(self, seen):
        if seen > self.seen:
            self.seen = seen
            self.trim()

    def trim(self):
        """Let go of the reply messages the client has seen (main thread: the host calls it
        now and then too, for acknowledgements that came with control pings)."""
        kept = self._kept
        seen = max(self.seen, self.seen_control)
        while kept and kept[0][0] <= seen:
            kept.popleft()

    def stamp(self, payload):
        """The header of the next reply message, kept until the client has seen it."""
        self.trim()
        self.replied += 1
        self._kept.append((self.replied, payload))
        return pack([self.replied, self.received])

    def stamp_stream(self, fields, body):
        """The header of the next reply message when it is a stream message (protocol.py:
        [reply, received, *stream header]); kept, with its body, until the client has seen it."""
        self.trim()
        self.replied += 1
        self._kept.append((self.replied, (fields, body)))
        return pack([self.replied, self.received, *fields])

    def unseen(self):
        """How many reply messages are kept for the client (its acknowledgement not yet here)."""
        return len(self._kept)

"""Wire constants, loaded from protocol.json (shared with the TypeScript client).

Client -> runtime: one msgpack array of ops per message, each op an array:
  CALL        [CALL, outs, name, args, kwargs, reply_id, ref_mask, nested]
                name 'add' -> torch.add, 'nn.functional.relu' -> torch.nn.functional.relu,
                '.add_' -> Tensor.add_ with args[0] as self. outs: None | id | [ids].
                reply_id != 0 asks for the outputs' metadata. Bit i of ref_mask set: args[i]
                is a plain handle id (the fast path); handles nested deeper (in lists, kwargs)
                travel as REF extensions and nested=1 says args need resolving.
  FREE        [FREE, [ids]]
  READ        [READ, reply_id, id, what]
  FROM_DATA   [FROM_DATA, out, dtype, shape, payload, kwargs]
                payload: bytes (inline) or [segment, byte_length, keep, byte_offset] (shared
                memory; keep=1 for a client shared array that tensors alias) or
                [stream, byte_length] (chunked, see below; stream is `out`)
  SYNC        [SYNC, reply_id]
  STATS       [STATS, reply_id]
  RELEASE_SHM [RELEASE_SHM, [names]]
  HELLO       [HELLO, reply_id, session_id]            (a child runtime)
              [HELLO, reply_id, session_id, shm_prefix, probe]   (a served runtime: probe is
                {name, nonce} of a client segment, or None; the reply says shm: whether the
                runtime could read it, i.e. whether bulk data may go through shared memory)
  SHUTDOWN    [SHUTDOWN, reply_id]   (ordered after every earlier op)
  CALLBACK_BEGIN  [CALLBACK_BEGIN, call]   the ops after it are TS callback `call`'s own
  CALLBACK_REPLY  [CALLBACK_REPLY, call, status, value]   its value (status OK) or the JS
                error {type, message, stack} (status ERROR); see callbacks.py
Runtime -> client: [ran, [[reply_id, status, value], ...]]: replies travel together (one send
per batch, not one per pending op; each send wakes the client), except that a read is sent as
soon as it is answered, which can be before earlier ops have run (early_reads.py); `ran` is the
number of ops run in order so far (the client sends its next op at once when that is all it
has sent). Three statuses are requests of the runtime's own, not replies (callbacks.py):
[call, CALLBACK, [function, args, kwargs]] (Python calls a TS function: run it),
[call, CANCEL, None] (Python no longer waits for it), [0, RELEASE, [function, ...]] (Python
dropped these TS functions).
Every op gets the next sequence number (from 0), on both sides, so errors name the op.
A served runtime may instead answer [-1, reason]: it holds no session for this client (freed
after its grace period, or shut down).

Served runtimes (protocol version 3). A served runtime's ops socket carries two kinds of
message, told apart by their frames, never by a guess about their payload:
  [payload]          one frame: an ops batch or reply with no header (a child runtime's, or a
                     bare client's: not resumable), or [GONE, reason]
  [payload, header]  two frames; header is a msgpack array of ints:
                       [n, ack]          n > 0: a numbered batch / reply message (resuming,
                                         below); n = 0 (with more elements): a sync / notice
                       [n, ack, *stream] n > 0: a numbered stream message, payload its body
                                         (chunked bulk data, below)
                       [*stream]         a stream message from (or to) a peer that does not
                                         number its messages
                     A stream header [kind, stream, ...] starts with a negative kind (STREAM),
                     so it is never mistaken for a number: the rule on both sides is "a header
                     that starts negative is a stream header; elements after a positive n's
                     first two are one".
Child transports (socket pair, zmq ipc child) only ever send one-frame messages.

Resuming. A served runtime's connection can drop and come back (ZeroMQ reconnects by itself,
losing what was in flight). Its clients therefore send each ops message with a header, and get
replies the same way (resume.py keeps the runtime's side, src/runtime/resume.ts the client's);
stream messages are numbered in the same sequences (a chunk is a batch or a reply message
like any other: kept until acknowledged, sent again when lost, handed on in order); every
number counts from 1 and only grows:
  client -> runtime  header [batch, seen]         a batch: its number; seen = the client has
                                                   every reply message numbered up to it
                     header [0, seen, sent]       a sync (empty payload): "I have sent `sent`
                                                   batches": the runtime answers with a notice
                     header [0, seen, sent, again]  the same, and first send again the reply
                                                   messages seen+1..again (lost)
  runtime -> client  header [reply, received]     a reply message: its number; received = every
                                                   batch numbered up to it has arrived
                     header [0, received, up_to, replied]  a notice (empty payload): batches
                                                   received+1..up_to did not arrive, send them
                                                   again (none when up_to <= received); replied
                                                   = reply messages sent before this notice (so
                                                   those of them not seen by the client now were
                                                   lost). Sent in answer to a sync, and at once
                                                   when a batch arrives after a gap (the runtime
                                                   holds it until the gap is filled; a batch
                                                   that arrives twice runs once)
Control: [req_id, cmd] -> [req_id, status, value]. From a served runtime's clients, req_id 0 is
a keepalive (noted, never answered). [req_id, ping, [sent, seen]] (a keepalive or a client's
watchdog) also acknowledges reply messages up to seen; when answered, the value adds received
and replied (reply messages sent so far), or gone: why this runtime holds no session for it.

Chunked bulk data (streams.py): a served runtime that cannot map the client's shared memory
(another host, a container without a shared /dev/shm, or a client that connected with
{shm: false}) moves a payload over INLINE_MAX_BYTES as a stream of chunks on the ops socket, so
that neither side ever holds the payload as one message (a 1 GiB tensor costs the tensor plus a
window, not 1-3 more copies of it) and no message is ever large. A stream message is two ZeroMQ
frames, [body, header] (header [n, ack, *stream] or [*stream], above), with stream header:
  CHUNK   [CHUNK, stream, offset, total]   body: the stream's bytes [offset, offset + len(body));
                                           chunks come in order, CHUNK_BYTES each but the last
  CREDIT  [CREDIT, stream, received]       body empty: the receiver has copied `received` bytes
                                           (cumulative) out of the stream's chunks
  STOP    [STOP, stream, 0]                body empty (runtime -> client only): the op that
                                           wanted this upload stopped (interrupted); send no more
Between numbering peers a transfer survives a dropped connection: its chunks and credits are
numbered, and resent like batches and replies. What that keeps costs no copy: the client keeps
views of the array it uploads, the runtime views of the tensor it sends (until the client's
acknowledgement, which rides on its next batch, credit or ping). A bare client's stream
messages are unnumbered: a chunk it loses arrives as a gap and fails the transfer (StreamError),
and a lost last chunk or credit stalls it until torch.interrupt() or, if the client has gone
quiet, the grace period ends it.
Flow control: a sender has at most WINDOW_CHUNKS * CHUNK_BYTES bytes sent and not yet credited
(ZeroMQ's queues are unbounded: this window is what bounds memory on both sides, with the
receiver's copy of the whole payload). Measured on loopback tcp:// (bench/cases/served.ts, a
shared 2-vCPU VM): 1, 2 and 4 MiB chunks with 8-16 MiB windows moved 64 MiB equally fast within
the machine's noise; without CURVE, 1.4-2.5x the GB/s of a raw TCP socket sending it as one
message; with CURVE, 0.8-1.4x raw ZeroMQ+CURVE sending it as one message (the encryption bounds
both). 1 MiB x 8 holds least memory and stops soonest when interrupted.
- Client -> runtime (torch.tensor(array), DataLoader batches): FROM_DATA carries [stream,
  byte_length] with stream = its out handle id, and the client sends the chunks right away
  (they may arrive before the op's batch). The runtime copies each chunk into a buffer of the
  stream's total size when its main thread takes it in (between ops, or while a transfer
  waits; a single long op holds them back, and the window bounds them), and credits it; the FROM_DATA op,
  run in program order, waits for the rest and makes the tensor over that buffer: one op, whose
  failure (a bad dtype or device kwarg) poisons its output only. The client reads the array as
  it sends it (zero-copy): it must not be written until the op has run (torch.sync()).
- Runtime -> client (READ DATA / DATA_COPY): the read sends the tensor as stream = its reply
  id, waits until the client has credited every byte, then replies {dtype, shape, chunked:
  byte_length}; the client copies each chunk into the TypedArray it returns.
- The control channel is another socket and thread: ping and interrupt are answered during a
  transfer. torch.interrupt() stops a transfer that is under way (the runtime checks between
  chunks): the upload's tensor is poisoned with KeyboardInterrupt and the client is sent STOP;
  the read fails with KeyboardInterrupt. A client silent for the session's grace period also
  ends a transfer the runtime waits on.
The main thread runs a transfer as it runs an op: other sessions' ops wait meanwhile (their
uploads' chunks are still taken in and credited).
"""

import json
import os

with open(os.path.join(os.path.dirname(__file__), "protocol.json"), "r", encoding="utf-8") as _f:
    SPEC = json.load(_f)

OP = SPEC["op"]
READ = SPEC["read"]
STATUS = SPEC["status"]
EXT = SPEC["ext"]
CONTROL = SPEC["control"]
INLINE_MAX_BYTES = SPEC["inline_max_bytes"]
STREAM = SPEC["stream"]
CHUNK_BYTES = SPEC["chunk_bytes"]
WINDOW_CHUNKS = SPEC["window_chunks"]
SHM_PREFIX = SPEC["shm_prefix"]
VERSION = SPEC["version"]
HELPERS = tuple(SPEC["helpers"])  # reached as 'tb.<name>'; pyobjects.HELPERS must match

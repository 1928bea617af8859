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
                memory; keep=1 for a client shared array that tensors alias)
  SYNC        [SYNC, reply_id]
  STATS       [STATS, reply_id]
  RELEASE_SHM [RELEASE_SHM, [names]]
  HELLO       [HELLO, reply_id, session_id]            (a child runtime)
              [HELLO, reply_id, session_id, shm_prefix, probe]   (a served runtime: probe is
                {name, nonce} of a client segment, or None; the reply says shm: whether the
                runtime could read it, i.e. whether bulk data may go through shared memory)
  SHUTDOWN    [SHUTDOWN, reply_id]   (ordered after every earlier op)
Runtime -> client: [ran, [[reply_id, status, value], ...]]: replies travel together (one send
per batch, not one per pending op; each send wakes the client), except that a read is sent as
soon as it is answered, which can be before earlier ops have run (early_reads.py); `ran` is the
number of ops run in order so far (the client sends its next op at once when that is all it
has sent).
Every op gets the next sequence number (from 0), on both sides, so errors name the op.
A served runtime may instead answer [-1, reason]: it holds no session for this client (freed
after its grace period, or shut down).

A served runtime's connection can drop and come back (ZeroMQ reconnects by itself, losing what
was in flight). Its clients therefore send each ops message as two ZeroMQ frames, [payload,
header], and get replies the same way (resume.py keeps the runtime's side, src/runtime/resume.ts
the client's); every number counts from 1 and only grows:
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
A one-frame message has no header: a child runtime's, or a bare client's (not resumable).
Control: [req_id, cmd] -> [req_id, status, value]. From a served runtime's clients, req_id 0 is
a keepalive (noted, never answered). [req_id, ping, [sent, seen]] (a keepalive or a client's
watchdog) also acknowledges reply messages up to seen; when answered, the value adds received
and replied (reply messages sent so far), or gone: why this runtime holds no session for it.
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
SHM_PREFIX = SPEC["shm_prefix"]
VERSION = SPEC["version"]
HELPERS = tuple(SPEC["helpers"])  # reached as 'tb.<name>'; pyobjects.HELPERS must match

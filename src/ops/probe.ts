/**
 * Asking the runtime for a tensor's metadata in op order, for writes the mirror cannot follow
 * (an indexed write through an unknown view, resize_, a Python-level method that changes its
 * tensor). Not a read: a read would take the first unreported error with it, and that error
 * belongs to the next sync point. Tensor.type_as(t, t) returns t itself, so its reply is t's.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Session } from '../session/session.js';
import { resultMetaFromWire, type WireMeta } from '../tensor/meta.js';
import { torchError } from '../errors.js';

/** t's metadata (as the wire has it), as it is once everything queued so far has run. */
export function probe(s: Session, t: Tensor): Promise<WireMeta> {
  const tmp = s.newHandle();
  const reply = s.expectReply();
  s.call(tmp, '.type_as', [t, t], null, reply.id, true);
  s.free(tmp);
  return reply.promise.then((metas) => (metas as WireMeta[])[0]!);
}

/**
 * t's metadata becomes what the runtime reports after everything queued so far. Meanwhile it is
 * unknown (reading it throws PendingMetadataError), or, with keepKnown, what the mirror knew
 * stays readable (an op that changes values only, whose autograd flags the reply settles).
 */
export function restateFromRuntime(s: Session, t: Tensor, keepKnown = false): void {
  if (t._disposed) return;
  if (!keepKnown) t._setMeta(undefined);
  void t._expectMeta(
    probe(s, t).then((w) => {
      const m = resultMetaFromWire(w);
      return 'notTensor' in m ? torchError('TypeError', `not a tensor: a Python ${m.notTensor}`) : m;
    }),
  );
}

import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { loadShmAddon } from '../src/memory/shm_addon.js';

const shm = loadShmAddon();
const python = fileURLToPath(new URL('../.venv/bin/python', import.meta.url));

function uniqueName(): string {
  return `/tb-test-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Runs `fn` with a fresh segment name and unlinks that name afterwards, whatever happens. */
function withName(fn: (name: string) => void): void {
  const name = uniqueName();
  try {
    fn(name);
  } finally {
    shm.unlink(name);
  }
}

function caught(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the call to throw');
}

describe('shm addon', () => {
  it('creates a segment that a second mapping sees byte for byte', () => {
    withName((name) => {
      const a = new Float32Array(shm.create(name, 1024 * 4));
      expect(a.length).toBe(1024);
      expect(a.every((v) => v === 0)).toBe(true);
      for (let i = 0; i < a.length; i++) a[i] = i * 0.5;

      const b = new Float32Array(shm.open(name, 1024 * 4));
      expect(Array.from(b.subarray(0, 4))).toEqual([0, 0.5, 1, 1.5]);
      expect(b[1023]).toBe(511.5);

      b[7] = -42; // and back the other way
      expect(a[7]).toBe(-42);

      // A smaller mapping of the same segment is fine.
      expect(new Float32Array(shm.open(name, 16))[3]).toBe(1.5);
    });
  });

  it('creates the file with mode 0600 and unlink removes it', () => {
    const name = uniqueName();
    try {
      shm.create(name, 4096);
      const path = `/dev/shm${name}`;
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(path).size).toBe(4096);
      expect(shm.unlink(name)).toBe(true);
      expect(existsSync(path)).toBe(false);
      expect(shm.unlink(name)).toBe(false);
    } finally {
      shm.unlink(name);
    }
  });

  it('keeps a mapping usable after its name is unlinked', () => {
    withName((name) => {
      const view = new Uint8Array(shm.create(name, 100));
      shm.unlink(name);
      view.fill(7);
      expect(view[99]).toBe(7);
    });
  });

  it('refuses to create an existing name (EEXIST) and leaves it intact', () => {
    withName((name) => {
      const first = new Uint8Array(shm.create(name, 64));
      first[0] = 9;
      const error = caught(() => shm.create(name, 64));
      expect(error.code).toBe('EEXIST');
      expect(error.message).toContain('shm_open');
      expect(error.message).toContain(name);
      expect(error.message).toContain('File exists');
      expect(new Uint8Array(shm.open(name, 64))[0]).toBe(9);
    });
  });

  it('refuses to open a segment smaller than requested, or a missing one', () => {
    withName((name) => {
      shm.create(name, 100);
      expect(() => shm.open(name, 101)).toThrow(/100 bytes, fewer than the 101 requested/);
      const missing = caught(() => shm.open(`${name}-missing`, 8));
      expect(missing.code).toBe('ENOENT');
      expect(missing.message).toContain(`${name}-missing`);
    });
  });

  it('rejects byteLength 0 and other bad sizes without creating anything', () => {
    withName((name) => {
      expect(() => shm.create(name, 0)).toThrow(/byteLength must be > 0/);
      expect(existsSync(`/dev/shm${name}`)).toBe(false);
      expect(() => shm.create(name, -1)).toThrow(RangeError);
      expect(() => shm.create(name, 1.5)).toThrow(RangeError);
      expect(() => shm.create(name, Number.NaN)).toThrow(RangeError);
      expect(existsSync(`/dev/shm${name}`)).toBe(false);
      shm.create(name, 8);
      expect(() => shm.open(name, 0)).toThrow(/byteLength must be > 0/);
    });
  });

  it('rejects malformed names', () => {
    expect(() => shm.create('no-slash', 8)).toThrow(TypeError);
    expect(() => shm.create('/a/b', 8)).toThrow(TypeError);
    expect(() => shm.create('/', 8)).toThrow(TypeError);
    expect(() => shm.unlink(`/${'x'.repeat(256)}`)).toThrow(TypeError);
  });

  it.skipIf(!existsSync(python))('shares memory with a Python process (os.open + mmap)', () => {
    withName((name) => {
      const view = new Float32Array(shm.create(name, 8 * 4));
      view.set([1, 2, 3, 4, 5, 6, 7, 8]);
      const script = [
        'import mmap, os, sys',
        'import numpy as np',
        'fd = os.open("/dev/shm/" + sys.argv[1], os.O_RDWR)',
        'm = mmap.mmap(fd, 32)',
        'os.close(fd)',
        'a = np.frombuffer(m, dtype=np.float32)',
        'print(a.sum())',
        'a[:] = a * 10 + 0.5',
        'del a',
        'm.close()',
      ].join('\n');
      const out = execFileSync(python, ['-c', script, name.slice(1)], { encoding: 'utf8' });
      expect(Number(out.trim())).toBe(36);
      expect(Array.from(view)).toEqual([10.5, 20.5, 30.5, 40.5, 50.5, 60.5, 70.5, 80.5]);
    });
  });
});

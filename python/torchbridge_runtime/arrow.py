"""pandas DataFrames and pyarrow Tables to and from TypeScript as Arrow IPC streams.

A result that is a DataFrame, a pyarrow Table or RecordBatch is handed over by handle as an
ArrowIPC (meta ['arrow', rows]); the client reads its bytes like a tensor's (READ DATA):
written straight into a fresh shared-memory segment (one copy, the IPC encoding itself), which
apache-arrow's tableFromIPC reads in place; inline when small; in chunks for a served client
without shared memory. An Arrow Table the client passes in comes as the bytes of an IPC stream
(a uint8 tensor) and is read without copying its column buffers (from_ipc).

pandas and pyarrow are optional: they are imported only when such a value is met, and a missing
pyarrow is a ModuleNotFoundError naming the package and what needed it.
"""

import importlib

import torch

from .protocol import INLINE_MAX_BYTES


def pyarrow(what):
    """The pyarrow module, or a ModuleNotFoundError that says why it was needed. Not cached:
    import_module of an imported module is a dict lookup, and a package hidden later
    (sys.modules[name] = None) is then seen as missing."""
    try:
        return importlib.import_module("pyarrow")
    except ImportError as e:
        raise ModuleNotFoundError(
            f"{what} needs the Python package pyarrow in the runtime, which cannot import it ({e}); "
            "install it into the runtime's Python (pip install pyarrow, or python/requirements-extras.txt)",
            name="pyarrow",
        ) from None


def _kind(obj):
    """'pandas.DataFrame', 'pyarrow.Table' or 'pyarrow.RecordBatch' for those, else None; by
    module name, so neither package is imported to ask."""
    cls = type(obj)
    module = cls.__module__
    if (module == "pandas" or module.startswith("pandas.")) and cls.__name__ == "DataFrame":
        return "pandas.DataFrame"
    if (module == "pyarrow" or module.startswith("pyarrow.")) and cls.__name__ in ("Table", "RecordBatch"):
        return f"pyarrow.{cls.__name__}"
    return None


def is_table(obj):
    return _kind(obj) is not None


class ArrowIPC:
    """A table on its way to the client: the Arrow table and the size of its IPC stream."""

    __slots__ = ("table", "nbytes")

    def __init__(self, obj):
        kind = _kind(obj)
        pa = pyarrow(f"sending a {kind} to TypeScript (as an Arrow table)")
        if kind == "pandas.DataFrame":
            # what pa.Table.from_pandas gives in Python: a RangeIndex is kept as metadata only
            obj = pa.Table.from_pandas(obj)
        elif kind == "pyarrow.RecordBatch":
            obj = pa.Table.from_batches([obj])
        self.table = obj
        sink = pa.MockOutputStream()  # counts the bytes the stream takes, writes none
        self._write(pa, sink)
        self.nbytes = sink.size()

    def _write(self, pa, sink):
        with pa.ipc.new_stream(sink, self.table.schema) as writer:
            writer.write_table(self.table)

    def meta(self):
        return ["arrow", self.table.num_rows]

    def write_into(self, buf):
        """Write the IPC stream into buf (a writable buffer of at least nbytes: an mmap)."""
        pa = pyarrow("an Arrow table")
        sink = pa.FixedSizeBufferWriter(pa.py_buffer(buf))
        self._write(pa, sink)
        sink.close()

    def to_bytes(self):
        out = bytearray(self.nbytes)
        self.write_into(out)
        return bytes(out)

    def read(self, reader):
        """The READ DATA reply for this stream, as values.DataReader gives a uint8 tensor's."""
        from .values import Chunked  # values imports this module

        n = self.nbytes
        head = {"dtype": "uint8", "shape": [n]}
        if n <= INLINE_MAX_BYTES:
            return dict(head, bytes=self.to_bytes())
        if not reader.use_shm:
            data = bytearray(n)
            self.write_into(data)
            return Chunked(dict(head, chunked=n), torch.frombuffer(data, dtype=torch.uint8))
        name, mm = reader.new_segment(n)
        self.write_into(mm)
        return dict(head, shm=name, nbytes=n)


def from_ipc(data, /):
    """tb.arrow_table: the pyarrow Table in an IPC stream's bytes (a uint8 tensor from the
    client), sharing their memory (the table keeps the tensor alive)."""
    pa = pyarrow("an Arrow Table passed from TypeScript")
    if not isinstance(data, torch.Tensor) or data.dtype != torch.uint8 or data.dim() != 1:
        raise TypeError("arrow_table() takes the bytes of an Arrow IPC stream as a 1-D uint8 tensor")
    if data.numel() == 0:
        raise ValueError("arrow_table(): an empty buffer is not an Arrow IPC stream")
    return pa.ipc.open_stream(pa.py_buffer(data.numpy())).read_all()

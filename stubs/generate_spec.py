#!/usr/bin/env python3
"""Generate stubs/spec.json: one op spec for torchbridge, read from torch itself.

Run with the Python that has the torch you want to describe:

    .venv/bin/python stubs/generate_spec.py            # writes stubs/spec.json
    .venv/bin/python stubs/generate_spec.py -o FILE    # somewhere else

Every file is found relative to ``torch.__file__`` (and ``torchgen``, which ships in
the same wheel), so the same command works against any torch 2.x. Sources, most
trusted first, per public callable:

1. the ``.pyi`` stubs torch ships (``torch/_C/_VariableFunctions.pyi``, class
   ``TensorBase`` and module functions in ``torch/_C/__init__.pyi``,
   ``torch/nn/functional.pyi``), matched to the runtime object by identity, so
   re-exports (``F.conv2d is torch.conv2d``) resolve to the stub of the real object;
2. ``torchgen/packaged/ATen/native/native_functions.yaml`` for builtins that have no
   stub (torch.linalg, torch.fft, torch.special, torch._C._nn), turned into the
   Python signature with the same rules as torch's binding generator
   (``self`` -> ``input``, ``out=`` dropped, TensorOptions -> dtype/layout/device/
   pin_memory/requires_grad);
3. ``inspect.signature`` (with annotations) for functions written in Python; missing
   annotations are filled from a same-named stub overload, else from the default;
4. the first line of ``__doc__`` (``name(a, b=1, *, c=None) -> Tensor``) as a last
   resort.

Every overload of a builtin is then reconciled with the signature strings torch's
argument parser was compiled with (plain text in libtorch_python): they decide names,
order and positional vs keyword-only where the stubs are wrong.

See stubs/README.md for the format and the type vocabulary.
"""
from __future__ import annotations

import argparse
import ast
import inspect
import json
import math
import os
import re
import sys
import types
import typing
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
import torch.fft  # noqa: E402,F401
import torch.linalg  # noqa: E402,F401
import torch.nn.functional  # noqa: E402,F401
import torch.special  # noqa: E402,F401

HERE = os.path.dirname(os.path.abspath(__file__))
TORCH_DIR = os.path.dirname(torch.__file__)
SITE_DIR = os.path.dirname(TORCH_DIR)

# namespace key -> (runtime object, dotted Python path, method namespace?)
NAMESPACES = {
    "torch": (torch, "torch", False),
    "Tensor": (torch.Tensor, "torch.Tensor", True),
    "nn.functional": (torch.nn.functional, "torch.nn.functional", False),
    "linalg": (torch.linalg, "torch.linalg", False),
    "fft": (torch.fft, "torch.fft", False),
    "special": (torch.special, "torch.special", False),
}

# native_functions.yaml python_module for the builtin namespaces
YAML_MODULE = {"linalg": "linalg", "fft": "fft", "special": "special"}


# --------------------------------------------------------------------------------------
# Which names are "public functions" of a namespace (shared with stubs/check_spec.py)
# --------------------------------------------------------------------------------------
def _is_public_callable(obj) -> bool:
    if inspect.isclass(obj) or inspect.ismodule(obj):
        return False
    if not callable(obj):
        return False
    mod = getattr(type(obj), "__module__", "")
    if mod in ("typing", "typing_extensions"):  # Optional, Union, Callable re-exported
        return False
    if isinstance(obj, (torch.dtype, torch.device, torch.layout, torch.memory_format)):
        return False
    return True


def public_callables(ns_key: str) -> dict:
    """name -> runtime object, for the public callables of a namespace."""
    owner, _, is_method = NAMESPACES[ns_key]
    out = {}
    for name in sorted(dir(owner)):
        if name.startswith("_"):
            continue
        try:
            obj = inspect.getattr_static(owner, name) if is_method else getattr(owner, name)
        except Exception:
            continue
        if is_method:
            if isinstance(obj, (staticmethod, classmethod)):
                obj = obj.__func__
            elif isinstance(obj, property) or type(obj).__name__ in (
                "getset_descriptor",
                "member_descriptor",
            ):
                continue
            else:
                obj = getattr(owner, name)
        if _is_public_callable(obj):
            out[name] = obj
    return out


# --------------------------------------------------------------------------------------
# Type normalisation: Python annotations (as AST) -> the small vocabulary
# --------------------------------------------------------------------------------------
ATOM = {
    # tensors
    "Tensor": "Tensor", "TensorBase": "Tensor", "Parameter": "Tensor", "Self": "Tensor",
    "_TensorBase": "Tensor", "TensorLikeType": "Tensor",
    # numbers
    "_int": "int", "int": "int", "SymInt": "int", "IntLikeType": "int", "_SymInt": "int",
    "_float": "float", "float": "float", "SymFloat": "float", "FloatLikeType": "float",
    "_bool": "bool", "bool": "bool", "SymBool": "bool", "BoolLikeType": "bool",
    "_complex": "Scalar", "complex": "Scalar", "Number": "Scalar", "_Number": "Scalar",
    "NumberType": "Scalar", "Scalar": "Scalar", "number": "Scalar",
    "str": "str", "_str": "str",
    # torch enums / objects
    "_dtype": "dtype", "dtype": "dtype", "DType": "dtype",
    "_device": "device", "device": "device", "Device": "device", "DeviceLikeType": "device",
    "_layout": "layout", "layout": "layout",
    "memory_format": "memory_format", "_memory_format": "memory_format",
    "Generator": "Generator",
    # the rest carry no useful type for the TS side
    "None": "None", "NoneType": "None",
    "EllipsisType": "Ellipsis", "ellipsis": "Ellipsis",
}
SEQ_NAMES = {"Sequence", "list", "List", "Iterable", "MutableSequence", "Collection", "Iterator"}
TUPLE_NAMES = {"tuple", "Tuple"}
# aliases from torch.types / torch.nn.common_types that expand to unions
ALIASES = {
    "_size": ["int[]"], "Size": ["int[]"], "_shape": ["int[]"], "ShapeType": ["int[]"],
    "_size_any_t": ["int", "int[]"], "_size_1_t": ["int", "int[]"],
    "_size_2_t": ["int", "int[]"], "_size_3_t": ["int", "int[]"],
    "_size_4_t": ["int", "int[]"], "_size_5_t": ["int", "int[]"], "_size_6_t": ["int", "int[]"],
    "_size_any_opt_t": ["int", "int?[]", "None"], "_size_2_opt_t": ["int", "int?[]", "None"],
    "_size_3_opt_t": ["int", "int?[]", "None"],  # None entries keep the input size
    "_ratio_2_t": ["float", "float[]"], "_ratio_3_t": ["float", "float[]"],
    "_ratio_any_t": ["float", "float[]"],
    "_tensor_or_tensors": ["Tensor", "Tensor[]"], "_TensorOrTensors": ["Tensor", "Tensor[]"],
}


def _leaf_name(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return ""


def _literal_atom(v) -> str:
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    return "any"


def _uniq(seq):
    out = []
    for s in seq:
        if s not in out:
            out.append(s)
    return out


def atoms_of(node) -> list:
    """Annotation AST -> ordered list of vocabulary atoms (a union)."""
    if node is None:
        return ["any"]
    if isinstance(node, ast.Constant):
        if node.value is None:
            return ["None"]
        if isinstance(node.value, str):  # forward reference
            try:
                return atoms_of(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return ["any"]
        if node.value is Ellipsis:
            return ["any"]
        return [_literal_atom(node.value)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _uniq(atoms_of(node.left) + atoms_of(node.right))
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = _leaf_name(node)
        if name in ALIASES and ALIASES[name] is not None:
            return list(ALIASES[name])
        if name in ATOM:
            return [ATOM[name]]
        if name in SEQ_NAMES or name in TUPLE_NAMES:
            return ["any[]"]
        return ["any"]
    if isinstance(node, ast.Subscript):
        head = _leaf_name(node.value)
        sl = node.slice
        elts = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
        if head == "Optional":
            return _uniq(atoms_of(elts[0]) + ["None"])
        if head == "Union":
            out = []
            for e in elts:
                out += atoms_of(e)
            return _uniq(out)
        if head == "Literal":
            return _uniq([_literal_atom(getattr(e, "value", object())) for e in elts])
        if head in ("TypeGuard", "TypeIs"):
            return ["bool"]
        if head in ("Annotated", "Final", "ClassVar"):
            return atoms_of(elts[0])
        if head in ("BroadcastingList1", "BroadcastingList2", "BroadcastingList3"):
            a = atoms_of(elts[0])
            return _uniq(a + [_seq_of(a)])
        if head in SEQ_NAMES:
            return [_seq_of(atoms_of(elts[0]))]
        if head in TUPLE_NAMES:
            if len(elts) == 2 and isinstance(elts[1], ast.Constant) and elts[1].value is Ellipsis:
                return [_seq_of(atoms_of(elts[0]))]
            parts = [fmt_type(atoms_of(e)) for e in elts]
            if parts and all(p == parts[0] for p in parts):
                return [_seq_of(atoms_of(elts[0]))]
            return ["any[]"]
        return ["any"]
    return ["any"]


def _seq_of(atoms: list) -> str:
    a = _dimname(list(atoms))
    a = [x for x in a if x != "None"] if a == ["Tensor", "None"] else a
    if a == ["Tensor"] and "None" in atoms:
        return "Tensor?[]"
    if len(a) == 1 and a[0] not in ("None", "any", "any[]"):
        return a[0] + "[]"
    if set(a) <= {"int", "float", "bool", "Scalar"} and a:
        return "Scalar[]" if len(a) > 1 else a[0] + "[]"
    return "any[]"


def _dimname(atoms: list) -> list:
    """str | EllipsisType | None is how the stubs spell a Dimname."""
    if "Ellipsis" in atoms and "str" in atoms:
        atoms = [a for a in atoms if a not in ("str", "Ellipsis", "None")]
        atoms.insert(0, "Dimname")
    return [("any" if a == "Ellipsis" else a) for a in atoms]


TYPE_ORDER = ["Tensor", "Tensor[]", "Tensor?[]", "Scalar", "Scalar[]", "int", "int[]",
              "int[][]", "float", "float[]", "bool", "bool[]", "str", "str[]", "dtype",
              "device", "layout", "memory_format", "Generator", "Dimname", "Dimname[]",
              "any[]"]


def fmt_type(atoms: list) -> str:
    """atoms -> "A|B" (canonical order), "X?" for X|None, "A|B|None" for longer unions"""
    atoms = _dimname(_uniq(atoms))
    if "any" in atoms:
        return "any"
    if "Scalar" in atoms or len([a for a in atoms if a in ("int", "float", "bool")]) >= 3:
        atoms = [a for a in atoms if a not in ("int", "float", "bool")] + ["Scalar"]
    if "device" in atoms:  # DeviceLikeType is str | int | torch.device
        atoms = [a for a in atoms if a not in ("str", "int")]
    atoms = _uniq(atoms)
    has_none = "None" in atoms
    rest = sorted((a for a in atoms if a != "None"),
                  key=lambda a: (TYPE_ORDER.index(a) if a in TYPE_ORDER else len(TYPE_ORDER), a))
    if not rest:
        return "None"
    if has_none:
        if len(rest) == 1:
            return rest[0] if rest[0].endswith("?") else rest[0] + "?"
        return "|".join(rest) + "|None"
    return "|".join(rest)


def type_from_ann(node) -> str:
    return fmt_type(atoms_of(node))


def is_named_dims(t: str) -> bool:
    """only named dimensions are accepted (Dimname, Dimname[]?, ...), not int|Dimname"""
    parts = [x for x in _split_union(t) if x != "None"]
    return bool(parts) and all(x.rstrip("?").startswith("Dimname") for x in parts)


# --------------------------------------------------------------------------------------
# Return types
# --------------------------------------------------------------------------------------
_RETURN_TYPES_CACHE: dict = {}


def _return_type_fields(name: str):
    cls = getattr(torch.return_types, name, None)
    if cls is None:
        return None
    fields = getattr(cls, "__match_args__", None)
    if not fields:
        n = getattr(cls, "n_fields", None) or getattr(cls, "n_sequence_fields", None)
        if n:
            fields = tuple(f"field{i}" for i in range(n))
    return list(fields) if fields else None


def returns_from_ann(node, yaml_returns: dict) -> dict:
    """Annotation AST of a return -> {"returns": ..., ["return_types"], ["return_names"]}"""
    if node is None:
        return {"returns": "any"}
    dotted = _dotted(node)
    if ".return_types." in "." + dotted or dotted.startswith("return_types."):
        rt = dotted.split(".")[-1]
        names = _return_type_fields(rt)
        types_ = None
        if rt in yaml_returns:
            yn, yt = yaml_returns[rt]
            if names is None or list(yn) == names:
                names, types_ = list(yn), list(yt)
        if names is None:
            return {"returns": "tuple"}
        return {"returns": "tuple", "return_names": names,
                "return_types": types_ or ["Tensor"] * len(names)}
    if isinstance(node, ast.Subscript) and _leaf_name(node.value) in TUPLE_NAMES:
        sl = node.slice
        elts = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
        if not (len(elts) == 2 and isinstance(elts[1], ast.Constant) and elts[1].value is Ellipsis):
            return {"returns": "tuple", "return_types": [type_from_ann(e) for e in elts]}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return returns_from_ann(ast.parse(node.value, mode="eval").body, yaml_returns)
        except SyntaxError:
            return {"returns": "any"}
    return {"returns": type_from_ann(node)}


# --------------------------------------------------------------------------------------
# Defaults: always the Python source text of the default ("None", "1", "'mean'",
# "torch.contiguous_format", "(-2, -1)"); "..." = has a default whose value is unknown.
# --------------------------------------------------------------------------------------
def default_src_from_value(v) -> str:
    if v is inspect.Parameter.empty:
        return None
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            return "nan"
        return repr(v)
    if isinstance(v, (torch.dtype, torch.layout, torch.memory_format)):
        return str(v) if str(v).startswith("torch.") else "torch." + str(v)
    if isinstance(v, torch.device):
        return f"torch.device({str(v)!r})"
    if v is None or isinstance(v, (bool, int, str, tuple, list)):
        return repr(v)
    if inspect.ismodule(v):
        return v.__name__
    if callable(v):
        n = getattr(v, "__qualname__", None) or getattr(v, "__name__", None) or "?"
        m = getattr(v, "__module__", None)
        return f"{m}.{n}" if m else n
    return repr(v)


# --------------------------------------------------------------------------------------
# .pyi parsing
# --------------------------------------------------------------------------------------
def _is_overload(fn) -> bool:
    return any(_leaf_name(d) == "overload" for d in fn.decorator_list)


def _is_skipped_decorator(fn) -> bool:
    return any(_leaf_name(d) in ("property", "setter", "deleter") or
               (isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter"))
               for d in fn.decorator_list)


TORCH_CONSTANTS = {"strided", "sparse_coo", "contiguous_format", "preserve_format",
                   "channels_last", "channels_last_3d"}


def _default_src(node) -> str:
    """default AST of a stub -> Python source; bare torch constants get their module"""
    src = ast.unparse(node)
    return "torch." + src if src in TORCH_CONSTANTS else src


def _literal_values(node):
    """Literal[...] (optionally inside Optional/Union with None) -> Python sources"""
    if isinstance(node, ast.Subscript):
        head = _leaf_name(node.value)
        elts = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head == "Literal":
            return [ast.unparse(e) for e in elts]
        if head in ("Optional", "Union"):
            vals = [_literal_values(e) for e in elts if not (
                isinstance(e, ast.Constant) and e.value is None)]
            if len(vals) == 1 and vals[0]:
                return vals[0]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [node.left, node.right]
        lits = [_literal_values(x) for x in sides if not (
            isinstance(x, ast.Constant) and x.value is None)]
        if len(lits) == 1 and lits[0]:
            return lits[0]
    return None


def _type_comment(fn) -> tuple:
    """TorchScript-style '# type: (Tensor, int) -> Tensor' -> (arg AST list, return AST)"""
    tc = getattr(fn, "type_comment", None)
    if not tc or tc.strip().startswith("ignore"):
        return None, None
    try:
        ft = ast.parse(tc, mode="func_type")
    except SyntaxError:
        return None, None
    return list(ft.argtypes), ft.returns


def overload_from_funcdef(fn: ast.FunctionDef, method: bool, yaml_returns: dict,
                          source: str) -> dict:
    a = fn.args
    params = []
    positional = list(a.posonlyargs) + list(a.args)
    npos_only = len(a.posonlyargs)
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    drop_first = False
    if method and positional and positional[0].arg in ("self", "cls"):
        if not any(_leaf_name(d) == "staticmethod" for d in fn.decorator_list):
            drop_first = True
    tc_args, tc_ret = _type_comment(fn)
    anns = [arg.annotation for arg in positional]
    if tc_args is not None:
        offset = len(positional) - len(tc_args)
        if offset in (0, 1):
            for i, t in enumerate(tc_args):
                if anns[i + offset] is None:
                    anns[i + offset] = t
    for i, (arg, d) in enumerate(zip(positional, defaults)):
        name, t = arg.arg, type_from_ann(anns[i])
        if i == 0 and drop_first:
            name, t = "input", "Tensor"
        p = {"name": name, "type": t, "kind": "positional", "optional": d is not None}
        if i < npos_only:
            p["positional_only"] = True
        if d is not None:
            p["default"] = _default_src(d)
        lit = _literal_values(anns[i]) if not (i == 0 and drop_first) else None
        if lit:
            p["literal"] = lit
        params.append(p)
    if a.vararg is not None:
        params.append({"name": a.vararg.arg, "type": type_from_ann(a.vararg.annotation),
                       "kind": "varargs", "optional": True})
    for arg, d in zip(a.kwonlyargs, a.kw_defaults):
        p = {"name": arg.arg, "type": type_from_ann(arg.annotation), "kind": "kw_only",
             "optional": d is not None}
        if d is not None:
            p["default"] = _default_src(d)
        lit = _literal_values(arg.annotation)
        if lit:
            p["literal"] = lit
        params.append(p)
    if a.kwarg is not None:
        params.append({"name": a.kwarg.arg, "type": type_from_ann(a.kwarg.annotation),
                       "kind": "varkw", "optional": True})
    ov = {"params": params, "source": source}
    ret = fn.returns if fn.returns is not None else tc_ret
    ov.update(returns_from_ann(ret, yaml_returns))
    return ov


def parse_pyi(path: str, yaml_returns: dict, cls: str | None = None, method=False,
              source: str = "") -> tuple[dict, dict]:
    """-> (name -> [overload...], alias name -> (module path, original name))"""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    body = tree.body
    if cls is not None:
        body = next(n.body for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    defs: dict = {}
    reexports: dict = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if _is_skipped_decorator(node):
                continue
            ov = overload_from_funcdef(node, method, yaml_returns, source)
            defs.setdefault(node.name, []).append(ov)
        elif isinstance(node, ast.ImportFrom) and cls is None and node.module:
            for al in node.names:
                reexports[al.asname or al.name] = (node.module, al.name)
    return defs, reexports


# --------------------------------------------------------------------------------------
# native_functions.yaml (no PyYAML needed: we only read func / python_module / variants)
# --------------------------------------------------------------------------------------
def read_native_yaml(path: str) -> list:
    entries = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("- func:"):
                cur = {"func": line[len("- func:"):].strip(), "python_module": None,
                       "variants": "function"}
                entries.append(cur)
            elif cur is not None and line.startswith("  ") and ":" in line:
                key, _, val = line.strip().partition(":")
                if key in ("python_module", "variants"):
                    cur[key] = val.strip()
            elif line.strip() and not line.startswith(" ") and not line.startswith("#"):
                cur = None
    return entries


def _split_top(s: str, sep=",") -> list:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [x.strip() for x in out]


SCHEMA_RE = re.compile(r"^([\w.]+)\((.*)\)\s*->\s*(.*)$")


def parse_schema(func: str):
    m = SCHEMA_RE.match(func)
    if not m:
        return None
    full, args_s, ret_s = m.groups()
    name, _, overload = full.partition(".")
    args = []
    kw_only = False
    for a in _split_top(args_s):
        if a == "*":
            kw_only = True
            continue
        d = None
        if "=" in a:
            a, _, d = a.partition("=")
            a, d = a.strip(), d.strip()
        ty, _, nm = a.rpartition(" ")
        ann = None
        mm = re.match(r"^(\w+)\(([a-z0-9!|\->* ]+)\)(.*)$", ty)
        if mm:
            ty, ann = mm.group(1) + mm.group(3), mm.group(2)
        args.append({"name": nm, "type": ty, "default": d, "kw_only": kw_only,
                     "mutable": bool(ann and "!" in ann)})
    ret_s = ret_s.strip()
    rets = []
    if ret_s.startswith("("):
        inner = ret_s[1:-1]
        for r in _split_top(inner):
            ty, _, nm = r.rpartition(" ")
            if not ty:
                ty, nm = r, None
            rets.append((re.sub(r"\([^)]*\)", "", ty), nm))
    else:
        ty, _, nm = ret_s.rpartition(" ")
        if not ty:
            ty, nm = ret_s, None
        rets.append((re.sub(r"\([^)]*\)", "", ty), nm))
    return {"name": name, "overload": overload, "args": args, "returns": rets}


SCHEMA_BASE = {
    "Tensor": "Tensor", "int": "int", "SymInt": "int", "float": "float", "bool": "bool",
    "Scalar": "Scalar", "str": "str", "ScalarType": "dtype", "Layout": "layout",
    "Device": "device", "MemoryFormat": "memory_format", "Generator": "Generator",
    "Dimname": "Dimname", "SymFloat": "float", "SymBool": "bool",
}


def schema_type(t: str) -> str:
    opt = t.endswith("?")
    if opt:
        t = t[:-1]
    m = re.match(r"^(\w+)(\?)?\[(\d*)\]$", t)
    if m:
        base = SCHEMA_BASE.get(m.group(1), "any")
        elem_opt = m.group(2) == "?"
        if base == "any":
            s = "any[]"
        else:
            s = base + ("?" if elem_opt else "") + "[]"
        if m.group(3) and base in ("int", "float", "bool") and not elem_opt:
            # torch's arg parser accepts a bare number for a sized list (int[2] etc.)
            return base + "|" + s + ("|None" if opt else "")
        return s + ("?" if opt else "")
    base = SCHEMA_BASE.get(t, "any")
    if base == "any":
        return "any"
    return base + ("?" if opt else "")


def pythonify_default(d: str, ty: str) -> str:
    if d is None:
        return None
    if d in ("True", "False", "None"):
        return d
    if d == "true":
        return "True"
    if d == "false":
        return "False"
    if d in TORCH_CONSTANTS:
        return "torch." + d
    if d in ("Mean", "at::Reduction::Mean"):
        return "1"
    if d == "long":
        return "torch.int64"
    if d.startswith("[") and d.endswith("]"):
        inner = d[1:-1]
        return "(" + ", ".join(x.strip() for x in inner.split(",") if x.strip()) + \
            ("," if inner.count(",") == 0 and inner.strip() else "") + ")"
    if d.startswith('"') and d.endswith('"'):
        return repr(d[1:-1])
    return d


TENSOR_OPTION_NAMES = ("dtype", "layout", "device", "pin_memory")


def overload_from_schema(sch: dict, method: bool, python_name: str) -> dict:
    params = []
    args = [a for a in sch["args"] if not (a["kw_only"] and a["mutable"])]
    names = [a["name"] for a in args]
    has_options = all(n in names for n in ("dtype", "layout", "device"))
    for i, a in enumerate(args):
        name, ty = a["name"], schema_type(a["type"])
        if method and i == 0 and name == "self":
            params.append({"name": "input", "type": "Tensor", "kind": "positional",
                           "optional": False})
            continue
        if name == "self" and not method and a["type"] == "Tensor":
            name = "input"
        p = {"name": name, "type": ty, "kind": "kw_only" if a["kw_only"] else "positional",
             "optional": a["default"] is not None}
        if has_options and name == "pin_memory":
            p["type"], p["optional"], p["default"] = "bool", True, "False"
        if a["default"] is not None and "default" not in p:
            p["default"] = pythonify_default(a["default"], a["type"])
        params.append(p)
    if has_options and "requires_grad" not in names:
        params.append({"name": "requires_grad", "type": "bool", "kind": "kw_only",
                       "optional": True, "default": "False"})
    rets = sch["returns"]
    ov = {"params": params, "source": "native_functions.yaml"}
    if len(rets) == 1 and rets[0][0] == "()":
        ov["returns"] = "None"
    elif len(rets) == 0:
        ov["returns"] = "None"
    elif len(rets) == 1:
        ov["returns"] = schema_type(rets[0][0])
    else:
        ov["returns"] = "tuple"
        ov["return_types"] = [schema_type(t) for t, _ in rets]
        if all(n for _, n in rets):
            ov["return_names"] = [n for _, n in rets]
    return ov


class NativeIndex:
    def __init__(self, path: str | None):
        self.by_key: dict = {}
        self.return_names: dict = {}
        if not path or not os.path.exists(path):
            return
        for e in read_native_yaml(path):
            sch = parse_schema(e["func"])
            if sch is None:
                continue
            variants = [v.strip() for v in (e["variants"] or "function").split(",")]
            self.by_key.setdefault(sch["name"], []).append((sch, e["python_module"], variants))
            rets = sch["returns"]
            if len(rets) > 1 and all(n for _, n in rets):
                base = sch["name"]
                self.return_names.setdefault(
                    base, ([n for _, n in rets], [schema_type(t) for t, _ in rets]))

    def overloads(self, schema_name: str, python_module, method: bool, python_name: str):
        cands = self.by_key.get(schema_name, [])
        outs, plain = [], []
        for sch, pm, variants in cands:
            if pm != python_module:
                continue
            if ("method" if method else "function") not in variants:
                continue
            is_out = any(a["kw_only"] and a["mutable"] for a in sch["args"])
            (outs if is_out else plain).append(sch)
        result = []
        out_sigs = set()
        for sch in outs:
            out_sigs.add(tuple(a["name"] for a in sch["args"] if not (a["kw_only"] and a["mutable"])))
        for sch in plain:
            ov = overload_from_schema(sch, method, python_name)
            sig = tuple(a["name"] for a in sch["args"])
            if sig in out_sigs:
                ov["has_out"] = True
            result.append(ov)
        if not plain:  # only an out= form exists (rare): expose it without out
            for sch in outs:
                ov = overload_from_schema(sch, method, python_name)
                ov["has_out"] = True
                result.append(ov)
        return result


# --------------------------------------------------------------------------------------
# The argument parser's own signature strings. torch's C++ bindings parse arguments with
# PythonArgParser, compiled from strings such as
#   "linalg_vector_norm(Tensor input, Scalar ord=2, IntArrayRef[1]? dim=None, ...)"
# that sit as plain text in libtorch_python. They are the final word on names, order and
# positional vs keyword-only, so stub overloads of builtins are reconciled with them
# (the stubs are hand-edited in places: Tensor.contiguous's memory_format is keyword-only,
# Tensor.random_ takes `from` not `from_`, torch.tensor's dtype is keyword-only, ...).
# Without the library (or with a format we do not recognise) this step is skipped.
# --------------------------------------------------------------------------------------
PARSER_TYPES = {
    "Tensor": "Tensor", "int64_t": "int", "SymInt": "int", "DeviceIndex": "int",
    "double": "float", "Scalar": "Scalar", "bool": "bool", "c10::string_view": "str",
    "std::string": "str", "ScalarType": "dtype", "Layout": "layout", "Device": "device",
    "MemoryFormat": "memory_format", "Generator": "Generator", "Dimname": "Dimname",
    "TensorList": "Tensor[]", "ITensorListRef": "Tensor[]", "IntArrayRef": "int[]",
    "SymIntArrayRef": "int[]", "ArrayRef<double>": "float[]", "ScalarList": "Scalar[]",
    "DimnameList": "Dimname[]", "c10::List<::std::optional<Tensor>>": "Tensor?[]",
    "c10::List<std::optional<Tensor>>": "Tensor?[]", "ArrayRef<SymInt>": "int[]",
}


def parser_type(t: str) -> str:
    opt = t.endswith("?")
    if opt:
        t = t[:-1]
    m = re.match(r"^(.*?)\[(\d+)\]$", t)
    sized = None
    if m:
        t, sized = m.group(1), m.group(2)
    base = PARSER_TYPES.get(t, "any")
    if base == "any":
        return "any"
    if sized and base in ("int[]", "float[]", "bool[]"):
        elem = base[:-2]
        return f"{elem}|{base}" + ("|None" if opt else "")
    return base + ("?" if opt else "")


def parse_parser_sig(body: str):
    params = []
    kw = False
    for part in _split_top(body.replace("{", "[").replace("}", "]")):
        if part == "*":
            kw = True
            continue
        decl, eq, default = part.partition("=")
        bits = decl.strip().split()
        if len(bits) < 2:
            return None
        pname = bits[-1]
        if not re.fullmatch(r"\w+", pname):
            return None
        params.append({"name": pname, "ctype": " ".join(bits[:-1]),
                       "kind": "kw_only" if kw else "positional",
                       "default": default.strip() if eq else None})
    return params


_PARSER_CACHE: dict = {}


def argparser_signatures() -> dict:
    """binding name -> [{"params": [...], "deprecated": bool}] (shared with check_spec)"""
    if "sigs" in _PARSER_CACHE:
        return _PARSER_CACHE["sigs"]
    out: dict = {}
    libdir = os.path.join(TORCH_DIR, "lib")
    cands = []
    if os.path.isdir(libdir):
        cands = sorted(os.path.join(libdir, f) for f in os.listdir(libdir)
                       if re.match(r"^(lib)?torch_python\.(so|dylib|dll)$", f))
    if cands:
        with open(cands[0], "rb") as f:
            blob = f.read()
        rx = re.compile(rb"(?<=\x00)([a-z_][a-z0-9_]*)\(([ -~]*?)\)(\|deprecated|\|hidden)?(?=\x00)")
        for m in rx.finditer(blob):
            full = m.group(1).decode()
            params = parse_parser_sig(m.group(2).decode())
            if params is None:
                continue
            # the linker shares string tails: "cfloat(...)" also serves "float(...)";
            # such tail candidates are only used when the exact name has no match
            for i in range(len(full)):
                out.setdefault(full[i:], []).append(
                    {"params": params, "deprecated": bool(m.group(3)), "exact": i == 0})
    _PARSER_CACHE["sigs"] = out
    return out


def _norm_pname(n: str) -> str:
    return {"from_": "from", "self": "input"}.get(n, n)


def _parser_default(d: str):
    if d is None:
        return None
    if d == "contiguous_format":
        return "torch.contiguous_format"
    if d == "preserve_format":
        return "torch.preserve_format"
    if d.startswith('"') and d.endswith('"'):
        return repr(d[1:-1])
    return pythonify_default(d, "")


def _best_parser_sig(sigs: list, body: list, mine: dict):
    """the parser signature that has every parameter we have (modulo self/input and
    from_/from), the same positional order, and the fewest extra (optional) ones"""
    best, best_score = None, None
    mine_pos = [_norm_pname(p["name"]) for p in body if p["kind"] in ("positional", "varargs")]
    for sig in sigs:
        gp = [g for g in sig["params"] if g["name"] != "out"]
        gnames = [_norm_pname(g["name"]) for g in gp]
        if len(set(gnames)) != len(gnames) or not set(mine) <= set(gnames):
            continue
        extra = [g for g in gp if _norm_pname(g["name"]) not in mine]
        if any(g["kind"] == "positional" and g["default"] is None for g in extra):
            continue
        g_pos = [_norm_pname(g["name"]) for g in gp if g["kind"] == "positional"]
        if [n for n in g_pos if n in mine] != [n for n in mine_pos if n in g_pos]:
            continue
        kind_diff = sum(1 for g in gp if _norm_pname(g["name"]) in mine
                        and mine[_norm_pname(g["name"])]["kind"] != g["kind"])
        if any(_norm_pname(g["name"]) in mine and not _types_compatible(
                mine[_norm_pname(g["name"])]["type"], _compat_type(g["ctype"])) for g in gp):
            continue  # e.g. a Storage method of the same name
        score = (len(extra), kind_diff, sig["deprecated"])
        if best is None or score < best_score:
            best, best_score = sig, score
    return best


def _fewer_parser_sig(sigs: list, body: list, mine: dict):
    best, best_n = None, None
    mine_pos = [_norm_pname(p["name"]) for p in body if p["kind"] in ("positional", "varargs")]
    for sig in sigs:
        gp = [g for g in sig["params"] if g["name"] != "out"]
        gnames = [_norm_pname(g["name"]) for g in gp]
        if not gnames or not set(gnames) < set(mine):
            continue
        dropped = [n for n in mine if n not in gnames]
        if any(not mine[n].get("optional") or mine[n]["kind"] in ("varargs", "varkw")
               for n in dropped):
            continue
        g_pos = [n for n, g in zip(gnames, gp) if g["kind"] == "positional"]
        if [n for n in mine_pos if n in gnames][:len(g_pos)] != g_pos:
            continue
        if best is None or len(dropped) < best_n:
            best, best_n = sig, len(dropped)
    return best


def _type_parts(t: str) -> set:
    parts = set()
    for x in _split_union(t):
        if x == "None":
            continue
        if x in ("int", "float", "bool", "Scalar"):
            parts |= {"int", "float", "bool", "Scalar"}
        elif x in ("int[]", "float[]", "Scalar[]"):
            parts |= {"int[]", "float[]", "Scalar[]"}
        else:
            parts.add(x)
    return parts


def _compat_type(ctype: str) -> str:
    base = ctype.rstrip("?")
    if base in ("Storage", "Stream", "PyObject*"):
        return "any" if base == "PyObject*" else base
    return parser_type(ctype)


def _types_compatible(a: str, b: str) -> bool:
    if "any" in a or "any" in b:
        return True
    pa, pb = _type_parts(a), _type_parts(b)
    return not pa or not pb or bool(pa & pb)


def _overlap_parser_sig(sigs: list, body: list, mine: dict):
    """same required parameters in the same order; optional ones differ (torch.range's
    stub has pin_memory, the parser has layout): the parser's list wins"""
    req = [_norm_pname(p["name"]) for p in body if not p.get("optional")]
    if not mine or any(p["kind"] in ("varargs", "varkw") for p in body):
        return None
    best, best_n = None, None
    for sig in sigs:
        gp = [g for g in sig["params"] if g["name"] != "out"]
        greq = [_norm_pname(g["name"]) for g in gp if g["default"] is None]
        if greq != req:
            continue
        overlap = len({_norm_pname(g["name"]) for g in gp} & set(mine))
        if overlap < max(1, len(mine) - 2):
            continue
        if best is None or overlap > best_n:
            best, best_n = sig, overlap
    return best


def _base_type(t: str) -> str:
    t = t.replace("|None", "")
    return t[:-1] if t.endswith("?") else t


def _renamed_parser_sig(sigs: list, body: list):
    found = []
    for sig in sigs:
        gp = [g for g in sig["params"] if g["name"] != "out"]
        if len(gp) != len(body):
            continue
        mapping, ok, same = {}, True, 0
        for p, g in zip(body, gp):
            if _norm_pname(p["name"]) == _norm_pname(g["name"]):
                same += 1
                continue
            if p["kind"] == "varargs" or _base_type(p["type"]) != _base_type(parser_type(g["ctype"])):
                ok = False
                break
            mapping[p["name"]] = g["name"]
        if ok and mapping and same >= len(body) - len(mapping) and len(mapping) <= max(1, len(body) // 2):
            found.append((sig, mapping))
    return found[0] if len(found) == 1 else None


def parser_only_overloads(binding: str, method: bool):
    out = []
    for sig in argparser_signatures().get(binding, []):
        if not sig["exact"] or sig["deprecated"]:
            continue
        first = sig["params"][0] if sig["params"] else None
        takes_self = first is not None and first["name"] in ("input", "self") and \
            first["ctype"] == "Tensor"
        if method == takes_self:
            continue
        params = [{"name": "input", "type": "Tensor", "kind": "positional",
                   "optional": False}] if method else []
        for g in sig["params"]:
            if g["name"] == "out":
                continue
            p = {"name": g["name"], "type": parser_type(g["ctype"]), "kind": g["kind"],
                 "optional": g["default"] is not None}
            if g["default"] is not None:
                p["default"] = _parser_default(g["default"])
            params.append(p)
        ov = {"params": params, "returns": "any", "source": "argparser"}
        if any(g["name"] == "out" for g in sig["params"]):
            ov["has_out"] = True
        out.append(ov)
    return out


def reconcile_with_parser(ovs: list, binding: str, method: bool) -> list:
    sigs = argparser_signatures().get(binding)
    if not sigs:
        return ovs
    out = []
    for ov in ovs:
        head = ov["params"][:1] if method else []
        body = ov["params"][1:] if method else ov["params"]
        body_no_out = [p for p in body if p["name"] != "out"]
        mine = {_norm_pname(p["name"]): p for p in body_no_out}
        exact = [g for g in sigs if g["exact"]]
        best = _best_parser_sig(exact, body_no_out, mine)
        if best is None and mine:
            # a shared string tail ("cfloat(...)" serving "float(...)") only confirms a
            # signature with exactly our parameter names; it never adds or drops any
            tails = [g for g in sigs if not g["exact"] and
                     {_norm_pname(x["name"]) for x in g["params"] if x["name"] != "out"}
                     == set(mine)]
            best = _best_parser_sig(tails, body_no_out, mine)
        if best is None:
            # same shape, a parameter named differently (Tensor.to(other=) is `tensor`,
            # requires_grad_(mode=) is `requires_grad`): take the parser's names
            renamed = _renamed_parser_sig(exact, body_no_out)
            if renamed is not None:
                best, mapping = renamed
                mine = {_norm_pname(mapping.get(p["name"], p["name"])): dict(
                    p, name=mapping.get(p["name"], p["name"])) for p in body_no_out}
        if best is None:
            # the stub lists optional parameters the parser does not take
            # (Tensor.new_tensor has no pin_memory): keep only what the parser takes
            best = _fewer_parser_sig(exact, body_no_out, mine) or \
                _overlap_parser_sig(exact, body_no_out, mine)
        if best is None:
            out.append(ov)
            continue
        params = list(head)
        for g in best["params"]:
            if g["name"] == "out":
                continue
            p = mine.get(_norm_pname(g["name"]))
            if p is None:
                p = {"name": g["name"], "type": parser_type(g["ctype"]), "kind": g["kind"],
                     "optional": g["default"] is not None}
                if g["default"] is not None:
                    p["default"] = _parser_default(g["default"])
            else:
                p = dict(p)
                p["name"] = g["name"]
                if p["kind"] != "varargs":
                    p["kind"] = g["kind"]
                if g["default"] is not None and not p.get("optional"):
                    p["optional"] = True
                    p["default"] = _parser_default(g["default"])
                elif g["default"] is None and p.get("optional") and p["kind"] != "varargs":
                    p["optional"] = False
                    p.pop("default", None)
                pt = parser_type(g["ctype"])
                if g["default"] == "None" and p.get("default") not in (None, "None", "..."):
                    # the binding's default is None (avg_pool2d(stride=None)); yaml says []
                    p["default"] = "None"
                    if pt != "any" and "None" not in p["type"] and not p["type"].endswith("?"):
                        p["type"] = _join_union(_split_union(p["type"]) + ["None"])
                if ("any" in p["type"] and pt != "any") or pt == "Tensor?[]" or (
                        pt == "Tensor[]" and p["type"] == "Tensor[]?"):
                    p["type"] = pt
                elif not g["ctype"].endswith("?") and g["default"] != "None" and \
                        p["kind"] != "varargs" and ("|None" in p["type"] or p["type"].endswith("?")):
                    # the stub allows None where the parser does not (cat(tensors=None),
                    # range(layout=None))
                    parts = [x for x in _split_union(p["type"]) if x != "None"]
                    if parts:
                        p["type"] = _join_union(parts)
                        if p.get("default") == "None" and g["default"] is not None:
                            p["default"] = _parser_default(g["default"])
            params.append(p)
        # varargs form of an IntArrayRef parameter keeps its place
        new = dict(ov, params=params)
        if any(g["name"] == "out" for g in best["params"]):
            new["has_out"] = True
        elif method or not any(p["name"] == "out" for p in body):
            new.pop("has_out", None)
        new["params"] = [q for q in new["params"] if q["name"] != "out"]
        out.append(new)
    return out


# --------------------------------------------------------------------------------------
# __doc__ first line:  "linalg.norm(A, ord=None, dim=None, *, out=None) -> Tensor"
# --------------------------------------------------------------------------------------
DOC_SIG_RE = re.compile(r"^\s*(?:[\w.]+\.)?(\w+)\((.*)\)\s*(?:->\s*(.*))?$")


def docstring_signature(obj, name: str):
    doc = getattr(obj, "__doc__", None) or ""
    for line in doc.strip().splitlines()[:3]:
        m = DOC_SIG_RE.match(line.strip())
        if m and m.group(1) == name:
            return m.group(2), (m.group(3) or "").strip()
    return None


def overload_from_docstring(obj, name: str, method: bool):
    got = docstring_signature(obj, name)
    if got is None:
        return None
    args_s, ret = got
    try:
        tree = ast.parse(f"def f({args_s}): pass")
    except SyntaxError:
        # forms like "bool pivot=True" or "a = 1" spacing -- drop type words
        cleaned = re.sub(r"\b(?:bool|int|float|str|Tensor)\s+(\w)", r"\1", args_s)
        try:
            tree = ast.parse(f"def f({cleaned}): pass")
        except SyntaxError:
            return None
    fn = tree.body[0]
    ov = overload_from_funcdef(fn, False, {}, "docstring")
    if method:
        ov["params"].insert(0, {"name": "input", "type": "Tensor", "kind": "positional",
                                "optional": False})
    for p in ov["params"][1 if method else 0:]:
        p["type"] = type_from_default(p.get("default"))
    r = ret.split()[0] if ret else ""
    ov["returns"] = {"Tensor": "Tensor", "LongTensor": "Tensor", "BoolTensor": "Tensor"}.get(
        r, "tuple" if r.startswith("(") else "any")
    return ov


def type_from_default(src) -> str:
    if src is None:
        return "any"
    try:
        v = ast.literal_eval(src)
    except Exception:
        if src.startswith("torch.") and "format" in src:
            return "memory_format?"
        if src in ("torch.strided", "torch.sparse_coo"):
            return "layout?"
        return "any"
    if v is None:
        return "any"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, tuple) and v and all(isinstance(x, int) for x in v):
        return "int|int[]"
    return "any"


# --------------------------------------------------------------------------------------
# inspect.signature for Python-level functions
# --------------------------------------------------------------------------------------
def _ann_to_ast(ann):
    if ann is inspect.Parameter.empty or ann is inspect.Signature.empty:
        return None
    if isinstance(ann, str):
        text = ann
    else:
        try:
            text = inspect.formatannotation(ann)
        except Exception:
            text = repr(ann)
    text = text.replace("typing.", "").replace("typing_extensions.", "")
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError:
        return None


def _donor_types(donors: list) -> dict:
    """param name -> union of the types the stub overloads give it"""
    types_: dict = {}
    for ov in donors or []:
        for p in ov["params"]:
            t = p["type"]
            if t == "any":
                continue
            cur = types_.setdefault(p["name"], [])
            for part in _split_union(t):
                if part not in cur:
                    cur.append(part)
    return {k: _join_union(v) for k, v in types_.items()}


def _split_union(t: str) -> list:
    parts = t.split("|")
    if len(parts) == 1 and t.endswith("?") and not t.endswith("[]?"):
        return [t[:-1], "None"]
    if len(parts) == 1 and t.endswith("[]?"):
        return [t[:-1], "None"]
    return parts


def _join_union(parts: list) -> str:
    atoms = []
    for p in parts:
        if p.endswith("?") and not p.endswith("[]"):
            atoms += [p[:-1], "None"]
        else:
            atoms.append(p)
    return fmt_type(_uniq(atoms))


def _unanimous_return(ovs: list):
    rets = [o for o in ovs if o.get("returns") not in (None, "any")]
    if not rets or len(rets) != len(ovs):
        return None
    keys = {json.dumps([o["returns"], o.get("return_types")]) for o in rets}
    if len(keys) != 1:
        if any(o["returns"] == "tuple" for o in rets):
            return None
        parts = []
        for o in rets:
            parts += _split_union(o["returns"])
        return {"returns": _join_union(_uniq(parts))}
    return {k: rets[0][k] for k in ("returns", "return_types", "return_names") if k in rets[0]}


def apply_donors(ov: dict, groups: list) -> None:
    """fill `any` parameter / return types of an overload from donor overload groups"""
    donors = [_donor_types(g) for g in groups]
    for p in ov["params"]:
        if p["type"] not in ("any", "any?"):
            continue
        t = next((g[p["name"]] for g in donors if p["name"] in g), None)
        if t is None:
            continue
        if p["kind"] == "varargs" and t.endswith("[]") and "|" not in t:
            t = t[:-2]
        if p.get("default") == "None" and "None" not in t and not t.endswith("?"):
            t = _join_union(_split_union(t) + ["None"])
        p["type"] = t
    if ov.get("returns") in (None, "any"):
        for g in groups:
            r = _unanimous_return(list(g))
            if r:
                ov.update(r)
                break


def overload_from_inspect(obj, method: bool, yaml_returns: dict, donor_groups=(),
                          doc_types=None):
    """inspect.signature; untyped parameters take the first type found in donor_groups
    (lists of overloads, most trusted first), then the docstring, then the default."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    donors = [_donor_types(g) for g in donor_groups]
    params = []
    first = True
    for p in sig.parameters.values():
        if first and method and p.name in ("self", "cls"):
            params.append({"name": "input", "type": "Tensor", "kind": "positional",
                           "optional": False})
            first = False
            continue
        first = False
        node = _ann_to_ast(p.annotation)
        t = type_from_ann(node) if node is not None else None
        d = default_src_from_value(p.default)
        if t is None or t == "any":
            t2 = next((g[p.name] for g in donors if p.name in g), None) or \
                (doc_types or {}).get(p.name)
            if t2 and p.kind == inspect.Parameter.VAR_POSITIONAL and t2.endswith("[]") \
                    and "|" not in t2:
                t2 = t2[:-2]
            if t2 is None:
                t2 = type_from_default(d)
            t = t2 if (t is None or t2 != "any") else t
        if d == "None" and t not in ("any", "None") and not t.endswith("?") and "None" not in t:
            t = _join_union(_split_union(t) + ["None"])
        kind = {
            inspect.Parameter.POSITIONAL_ONLY: "positional",
            inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
            inspect.Parameter.VAR_POSITIONAL: "varargs",
            inspect.Parameter.KEYWORD_ONLY: "kw_only",
            inspect.Parameter.VAR_KEYWORD: "varkw",
        }[p.kind]
        q = {"name": p.name, "type": t, "kind": kind,
             "optional": d is not None or kind in ("varargs", "varkw")}
        if p.kind == inspect.Parameter.POSITIONAL_ONLY:
            q["positional_only"] = True
        if d is not None:
            q["default"] = d
        params.append(q)
    ov = {"params": params, "source": "inspect"}
    node = _ann_to_ast(sig.return_annotation)
    if node is not None:
        ov.update(returns_from_ann(node, yaml_returns))
    if ov.get("returns") in (None, "any"):
        ov["returns"] = "any"
        for g in donor_groups:
            r = _unanimous_return(list(g))
            if r:
                ov.update(r)
                break
    return ov


def op_packet_overloads(obj, method: bool):
    """torch.ops-style callables (torch.quantized_lstm is an OpOverloadPacket): their
    schemas are the native schema strings."""
    names = getattr(obj, "overloads", None)
    if not callable(names):
        return None
    out = []
    try:
        ov_names = list(names())
    except Exception:
        return None
    for on in ov_names:
        try:
            schema = str(getattr(obj, on)._schema)
        except Exception:
            continue
        sch = parse_schema(schema.split("::", 1)[-1])
        if sch is None or any(a["kw_only"] and a["mutable"] for a in sch["args"]):
            continue
        ov = overload_from_schema(sch, method, sch["name"])
        ov["source"] = "torch.ops schema"
        out.append(ov)
    return out or None


def _is_python_function(obj) -> bool:
    return inspect.isfunction(inspect.unwrap(obj)) if callable(obj) else False


# --------------------------------------------------------------------------------------
# Python-level functions: @overload stubs in their source, boolean_dispatch, type
# comments, annotations, the "Args:" section of the docstring
# --------------------------------------------------------------------------------------
_SRC_CACHE: dict = {}


def _source_tree(path: str):
    if path not in _SRC_CACHE:
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), type_comments=True)
            parents = {}
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    parents[child] = node
            _SRC_CACHE[path] = (tree, parents)
        except (OSError, SyntaxError, UnicodeDecodeError):
            _SRC_CACHE[path] = None
    return _SRC_CACHE[path]


def _scope(node, parents):
    node = parents.get(node)
    while node is not None and not isinstance(
            node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        node = parents.get(node)
    return node


def source_defs(func):
    """-> ([@overload FunctionDef...], the real FunctionDef or None) from the source file"""
    f = inspect.unwrap(func)
    code = getattr(f, "__code__", None)
    if code is None:
        return [], None
    try:
        path = inspect.getsourcefile(f)
    except TypeError:
        path = None
    got = _source_tree(path) if path else None
    if got is None:
        return [], None
    tree, parents = got
    real = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if first == code.co_firstlineno or node.lineno == code.co_firstlineno:
                real = node
                break
    if real is None:
        return [], None
    scope = _scope(real, parents)
    overloads = [n for n in ast.walk(scope)
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name == real.name and _is_overload(n) and _scope(n, parents) is scope]
    return overloads, real


DOC_TYPE_WORDS = [
    (r"\b(?:list|sequence|tuple|iterable)s? of (?:\w+ )?tensors?\b|\btensors?\.\.\.|"
     r"\blist\[tensor\]|\btuple\[tensor|\bsequence\[tensor", "Tensor[]"),
    (r"\b(?:list|sequence|tuple)s? of ints?\b|\bints?\.\.\.|\blist\[int\]|"
     r"\btuple\[int|\btorch\.size\b|\bsize\b", "int[]"),
    (r"\b(?:list|sequence|tuple)s? of floats?\b|\blist\[float\]", "float[]"),
    (r"\btensors?\b", "Tensor"),
    (r"torch\.dtype|\bdtype\b", "dtype"),
    (r"torch\.device|\bdevice\b", "device"),
    (r"torch\.layout", "layout"),
    (r"torch\.memory_format", "memory_format"),
    (r"torch\.generator|\bgenerator\b", "Generator"),
    (r"\bnumbers?\b|\bscalar\b", "Scalar"),
    (r"\bint(?:eger)?s?\b", "int"),
    (r"\bfloats?\b", "float"),
    (r"\bbool(?:ean)?\b", "bool"),
    (r"\bstr(?:ing)?\b", "str"),
]
DOC_ARG_RE = re.compile(r"^\s*\\?\*{0,2}(\w+)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*:")


def docstring_arg_types(doc: str) -> dict:
    """'Args:' lines like 'dims (int or tuple of ints, optional): ...' -> {name: type}"""
    out = {}
    if not doc:
        return out
    for line in doc.splitlines():
        m = DOC_ARG_RE.match(line)
        if not m:
            continue
        t = _doc_phrase_type(m.group(2))
        if t:
            out.setdefault(m.group(1), t)
    return out


def _doc_phrase_type(desc: str):
    atoms = []
    for part in re.split(r"\bor\b|,|/", desc.lower()):
        part = part.strip()
        if not part:
            continue
        if part == "optional":
            atoms.append("None")
            continue
        for rx, atom in DOC_TYPE_WORDS:
            if re.search(rx, part):
                atoms.append(atom)
                break
        else:
            return None
    return fmt_type(_uniq(atoms)) if atoms else None


def docstring_return_type(doc: str):
    """'Returns:' section: 'Tensor: ...', 'output (Tensor or tuple of Tensors)', ..."""
    if not doc:
        return None
    m = re.search(r"\n\s*Returns?:\s*\n\s*(.+)", doc)
    if not m:
        return None
    line = m.group(1).strip()
    mm = re.match(r"^(?:\w+\s*)?\(([^)]*)\)", line) or re.match(r"^([\w .\[\]]+?)\s*:", line)
    if not mm:
        return None
    return _doc_phrase_type(mm.group(1))


schema_donors = None  # set in build_spec: (func, name) -> overloads from aten schemas


def python_overloads(func, is_method: bool, yret: dict, donors=None, depth=0):
    bd = getattr(sys.modules.get("torch._jit_internal"), "boolean_dispatched", {})
    try:
        info = bd.get(func) if depth < 6 else None
    except TypeError:
        info = None
    if info:
        out = []
        for flag, branch in ((False, info["if_false"]), (True, info["if_true"])):
            for ov in python_overloads(branch, is_method, yret, donors, depth + 1) or []:
                for p in ov["params"]:
                    if p["name"] == info["arg_name"]:
                        p["type"], p["literal"] = "bool", [repr(flag)]
                        if flag != info["default"]:
                            p["optional"] = False
                            p.pop("default", None)
                out.append(ov)
        return out
    overload_defs, real = source_defs(func)
    groups = []
    if real is not None:
        groups.append([overload_from_funcdef(real, is_method, yret, "source")])
    if donors:
        groups.append(list(donors))
    if schema_donors is not None and not is_method:
        groups.append(schema_donors(func, getattr(func, "__name__", "")))
    if overload_defs:
        ovs = [overload_from_funcdef(d, is_method, yret, "source:@overload")
               for d in overload_defs]
        for ov in ovs:
            apply_donors(ov, groups)
        return ovs
    doc = getattr(func, "__doc__", None)
    doc_types = docstring_arg_types(doc)
    try:
        sig_params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        sig_params = []
    only_var = bool(sig_params) and all(
        p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig_params)
    if only_var:  # def f(*args, **kwargs): the docstring's first line is the signature
        ov = overload_from_docstring(func, getattr(func, "__name__", ""), is_method)
        if ov is not None:
            for p in ov["params"]:
                t = doc_types.get(p["name"])
                if t and p["type"] == "any":
                    p["type"] = t[:-2] if p["kind"] == "varargs" and t.endswith("[]") \
                        and "|" not in t else t
            apply_donors(ov, groups)
            return [ov]
    ov = overload_from_inspect(func, is_method, yret, groups, doc_types)
    return [ov] if ov else None


# --------------------------------------------------------------------------------------
# post-processing of overloads
# --------------------------------------------------------------------------------------
# Parameters torch leaves untyped (no annotation, no type comment, no docstring type):
# what the name means everywhere in torch's Python API.
UNTYPED_NAME_HINTS = {"input": "Tensor", "tensors": "Tensor", "matrices": "Tensor",
                      "operands": "Tensor"}


def fill_untyped(ovs: list, obj, name: str, method: bool) -> None:
    """Type what the sources above left as `any` from the docstring of the live object
    (the "Args:" section, the "name(...) -> T" first line), then from the name."""
    doc = getattr(obj, "__doc__", None) or ""
    doc_types = docstring_arg_types(doc)
    sig = docstring_signature(obj, name)
    ret = None
    if sig and sig[1]:
        ret = {"Tensor": "Tensor", "LongTensor": "Tensor", "BoolTensor": "Tensor"}.get(
            sig[1].split()[0])
    ret = ret or docstring_return_type(doc)
    for ov in ovs:
        for i, p in enumerate(ov["params"]):
            if p["type"] not in ("any", "any?"):
                continue
            if method and i == 0:
                p["type"] = "Tensor"
                continue
            t = doc_types.get(p["name"])
            if t and p["kind"] == "varargs" and t.endswith("[]"):
                t = t[:-2]
            if t is None and p["name"] in UNTYPED_NAME_HINTS and p["kind"] != "varkw":
                t = UNTYPED_NAME_HINTS[p["name"]]
            if t is None:
                continue
            if p.get("default") == "None" and "None" not in t and not t.endswith("?"):
                t = _join_union(_split_union(t) + ["None"])
            p["type"] = t
            p["type_from"] = "docstring" if p["name"] in doc_types else "name"
        if ov.get("returns") == "any" and ret:
            ov["returns"] = ret
        # TorchScript type comments spell a dtype as int
        for p in ov["params"]:
            if p["name"] == "dtype" and "dtype" not in p["type"] and "int" in p["type"]:
                p["type"] = "dtype?" if ("None" in p["type"] or p["type"].endswith("?")) else "dtype"


def fill_defaults(ovs: list, pyfunc) -> None:
    """stubs write unknown defaults as `...`: take them from the live function"""
    if pyfunc is None:
        return
    try:
        live = {p.name: default_src_from_value(p.default)
                for p in inspect.signature(pyfunc).parameters.values()
                if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        return
    for ov in ovs:
        for p in ov["params"]:
            if p.get("default") == "..." and p["name"] in live:
                p["default"] = live[p["name"]]


DEPRECATED: set = set()  # (name, method?, param names) from deprecated.yaml


def _compatible_twin(done: list, ov: dict):
    shape = [(p["name"], p["kind"], p["optional"], p.get("literal")) for p in ov["params"]]
    for o in done:
        if [(p["name"], p["kind"], p["optional"], p.get("literal")) for p in o["params"]] != shape:
            continue
        if [o.get(k) for k in ("returns", "return_types", "return_names", "named_dims",
                               "deprecated")] != \
                [ov.get(k) for k in ("returns", "return_types", "return_names", "named_dims",
                                     "deprecated")]:
            continue
        if all(a["type"] == b["type"] or (
                _types_compatible(a["type"], b["type"]) and
                _type_parts(a["type"]) == _type_parts(b["type"]))
               for a, b in zip(o["params"], ov["params"])):
            return o
    return None


def finish_overloads(ovs: list, method: bool, name: str) -> list:
    """drop `out` (parameters after a positional `out` become keyword-only, since their
    position moved), make `= None` parameters accept None, flag named dims and
    deprecated forms, dedupe."""
    out, seen = [], set()
    for ov in ovs:
        params = []
        has_out = bool(ov.get("has_out"))
        shifted = False
        for p in ov["params"]:
            if p["name"] == "out" and p["kind"] in ("kw_only", "positional") and (
                    p["kind"] == "kw_only" or "Tensor" in p["type"] or p["type"] == "any"):
                has_out = True
                shifted = shifted or p["kind"] == "positional"
                continue
            if shifted and p["kind"] == "positional":
                p["kind"] = "kw_only"
            if p.get("default") == "None" and p["type"] not in ("any", "None") and \
                    "None" not in p["type"] and not p["type"].endswith("?"):
                p["type"] = _join_union(_split_union(p["type"]) + ["None"])
            params.append(p)
        ov = dict(ov)
        ov["params"] = params
        ov.pop("has_out", None)
        ov.pop("deprecated", None)
        if has_out:
            ov["has_out"] = True
        if any(is_named_dims(p["type"]) for p in params):
            ov["named_dims"] = True
        names = tuple(p["name"] for p in (params[1:] if method else params))
        if (name, method, names) in DEPRECATED:
            ov["deprecated"] = True
        twin = _compatible_twin(out, ov)
        if twin is not None:
            # the same call told twice (stub and parser spelled `bool` and `bool?`):
            # one overload, types joined
            for a, b in zip(twin["params"], ov["params"]):
                if a["type"] != b["type"]:
                    a["type"] = _join_union(_split_union(a["type"]) + _split_union(b["type"]))
            if has_out:
                twin["has_out"] = True
            continue
        key = json.dumps([ov["params"], ov.get("returns")], sort_keys=True)
        if key in seen:
            # an out= twin of an overload we already have
            if has_out:
                for o in out:
                    if json.dumps([o["params"], o.get("returns")], sort_keys=True) == key:
                        o["has_out"] = True
            continue
        seen.add(key)
        out.append(ov)
    return out


def tensor_api(ovs: list) -> bool:
    for ov in ovs:
        types_ = [p["type"] for p in ov["params"]] + [ov.get("returns", "")] + \
            list(ov.get("return_types", []))
        if any("Tensor" in t for t in types_):
            return True
    return False


DOC_ROOT = None


def doc_url(ns_key: str, name: str) -> str:
    root = DOC_ROOT
    if ns_key == "special":
        return f"{root}/special.html#torch.special.{name}"
    prefix = NAMESPACES[ns_key][1]
    return f"{root}/generated/{prefix}.{name}.html"


def _docs_root(version: str) -> str:
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)$", version.split("+")[0])
    ref = f"{m.group(1)}.{m.group(2)}" if m else "main"
    return f"https://docs.pytorch.org/docs/{ref}"


# --------------------------------------------------------------------------------------
# autograd/derivatives.yaml: the name of the grad_fn each ATen overload records
# --------------------------------------------------------------------------------------
def read_backward_names(path: str) -> dict:
    """ATen overload ('add.Tensor', 'sum') -> its autograd node class ('AddBackward0').

    torchgen names the node CamelCase(base name) + 'Backward' + a counter per base name,
    counting the entries of derivatives.yaml in file order that differentiate some input
    (an entry whose inputs are all non_differentiable gets no node). Only the Default
    dispatch key counts here (other keys, e.g. nested tensors, get their own classes)."""
    entries = []  # [schema, {input names with a formula}, {non-differentiable}]
    cur = None
    in_dispatch = in_default = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("- name:"):
                sch = parse_schema(line[len("- name:"):].strip())
                cur = [sch, set(), set()] if sch else None
                if cur:
                    entries.append(cur)
                in_dispatch = in_default = False
                continue
            if cur is None or not line.strip() or line.lstrip().startswith("#"):
                continue
            indent = len(line) - len(line.lstrip(" "))
            key, sep, val = line.strip().partition(":")
            if not sep:
                continue
            if indent == 2:
                in_dispatch = key == "dispatch"
                in_default = False
                if in_dispatch or key == "output_differentiability":
                    continue
            elif in_dispatch and indent == 4:
                in_default = key == "Default"
                continue
            elif not (in_dispatch and in_default and indent == 6):
                continue  # a formula's continuation line
            names = [n.strip() for n in key.split(",")]
            inputs = {a["name"] for a in cur[0]["args"]}
            if names[0] not in inputs:
                continue  # a forward-mode formula ('result: ...')
            (cur[2] if val.strip().lower() == "non_differentiable" else cur[1]).update(names)
    counter: dict = {}
    out = {}
    for sch, differentiated, _ in entries:
        if not differentiated:
            continue
        prefix = ("".join(p.title() for p in sch["name"].split("_")) + "Backward") \
            .replace("ForwardBackward", "Backward")
        n = counter.get(prefix, 0)
        counter[prefix] = n + 1
        key = sch["name"] + ("." + sch["overload"] if sch["overload"] else "")
        out[key] = f"{prefix}{n}"
    return out


def backward_names() -> dict:
    """read_backward_names for this torch, checked against the classes torch really has."""
    try:
        import torchgen
        base = os.path.join(os.path.dirname(torchgen.__file__), "packaged")
    except Exception:
        base = os.path.join(SITE_DIR, "torchgen", "packaged")
    path = os.path.join(base, "autograd", "derivatives.yaml")
    if not os.path.exists(path):
        return {}
    names = read_backward_names(path)
    known = {n for n in dir(torch._C._functions) if "Backward" in n}
    missing = sorted(n for n in set(names.values()) if n not in known)
    if known and missing:
        raise SystemExit(f"derivatives.yaml names that torch does not have: {missing[:20]}")
    return dict(sorted(names.items()))


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------
def build_spec() -> dict:
    global DOC_ROOT
    DOC_ROOT = _docs_root(torch.__version__)

    yaml_path = None
    try:
        import torchgen  # noqa: F401  (ships in the torch wheel)
        yaml_path = os.path.join(os.path.dirname(torchgen.__file__), "packaged", "ATen",
                                 "native", "native_functions.yaml")
    except Exception:
        cand = os.path.join(SITE_DIR, "torchgen", "packaged", "ATen", "native",
                            "native_functions.yaml")
        yaml_path = cand if os.path.exists(cand) else None
    native = NativeIndex(yaml_path)
    yret = native.return_names
    DEPRECATED.clear()
    if yaml_path:
        dep = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(yaml_path))),
                           "autograd", "deprecated.yaml")
        if os.path.exists(dep):
            with open(dep, encoding="utf-8") as f:
                for line in f:
                    if line.startswith("- name:"):
                        sch = parse_schema(line[len("- name:"):].strip())
                        if sch is None:
                            continue
                        args = [a for a in sch["args"] if not (a["kw_only"] and a["mutable"])]
                        names = [a["name"] for a in args]
                        DEPRECATED.add((sch["name"], False, tuple(names)))
                        DEPRECATED.add((sch["name"], False, tuple(
                            "input" if n == "self" else n for n in names)))
                        DEPRECATED.add((sch["name"], True, tuple(n for n in names if n != "self")))

    global schema_donors

    def _schema_donors(func, name):
        """what aten says about a torch function written in Python: the JIT's builtin
        op for it, else the native function of the same name"""
        out = []
        try:
            from torch.jit._builtins import _find_builtin
            op = _find_builtin(func)
            if op:
                for sc in torch._C._jit_get_schemas_for_operator(op):
                    sch = parse_schema(str(sc).split("::", 1)[-1])
                    if sch and not any(a["kw_only"] and a["mutable"] for a in sch["args"]):
                        if not any("..." in a["type"] or a["name"] == "..." for a in sch["args"]):
                            out.append(overload_from_schema(sch, False, name))
        except Exception:
            pass
        return out or native.overloads(name, None, False, name)

    schema_donors = _schema_donors

    # ---- stub index by identity: id(runtime object) -> overloads ----
    by_id: dict = {}
    keep_alive = []

    def index_module_pyi(rel, module):
        path = os.path.join(TORCH_DIR, rel)
        if not os.path.exists(path):
            return {}
        defs, reexports = parse_pyi(path, yret, source="pyi:" + rel)
        for name, ovs in defs.items():
            obj = getattr(module, name, None)
            if obj is not None and callable(obj):
                keep_alive.append(obj)
                by_id.setdefault(id(obj), ovs)
        return defs

    vf_defs = index_module_pyi("_C/_VariableFunctions.pyi", torch._C._VariableFunctions)
    index_module_pyi("_C/__init__.pyi", torch._C)
    # _C/_nn.pyi is partly hand-written (e.g. it shows gelu's `approximate` as positional,
    # the binding makes it keyword-only); native_functions.yaml (python_module: nn) is
    # what the binding is generated from, so it wins for torch._C._nn builtins.
    nn_defs = {}
    nn_pyi = os.path.join(TORCH_DIR, "_C", "_nn.pyi")
    if os.path.exists(nn_pyi):
        nn_defs, _ = parse_pyi(nn_pyi, yret, source="pyi:_C/_nn.pyi")
    for name in sorted(dir(torch._C._nn)):
        obj = getattr(torch._C._nn, name)
        if not callable(obj) or name.startswith("__"):
            continue
        ovs = native.overloads(name, "nn", False, name)
        if ovs:
            by_id[id(obj)] = ovs
        elif name in nn_defs:
            by_id[id(obj)] = nn_defs[name]
        keep_alive.append(obj)
    f_defs = index_module_pyi("nn/functional.pyi", torch.nn.functional)
    tb_defs = {}
    init_pyi = os.path.join(TORCH_DIR, "_C", "__init__.pyi")
    if os.path.exists(init_pyi):
        for cls in ("TensorBase", "_TensorBase"):
            try:
                tb_defs, _ = parse_pyi(init_pyi, yret, cls=cls, method=True,
                                       source="pyi:_C/__init__.pyi:" + cls)
                break
            except StopIteration:
                continue
    tensor_base = getattr(torch._C, "TensorBase", None) or getattr(torch._C, "_TensorBase")
    for name, ovs in tb_defs.items():
        obj = tensor_base.__dict__.get(name)
        if obj is not None:
            keep_alive.append(obj)
            by_id.setdefault(id(obj), ovs)

    spec_ns = {}
    for ns_key, (owner, dotted, is_method) in NAMESPACES.items():
        entries = []
        for name, obj in public_callables(ns_key).items():
            ovs = None
            pyfunc = obj if _is_python_function(obj) else None
            raw = inspect.getattr_static(owner, name, None) if is_method else obj
            # 1. stubs, by identity
            key_obj = raw if is_method and raw is not None else obj
            if id(key_obj) in by_id:
                ovs = [dict(o, params=[dict(p) for p in o["params"]]) for o in by_id[id(key_obj)]]
            elif id(obj) in by_id:
                ovs = [dict(o, params=[dict(p) for p in o["params"]]) for o in by_id[id(obj)]]
            # stubs written for a Python-level function under the same name
            if ovs is None and pyfunc is not None:
                stub = (tb_defs if is_method else f_defs if ns_key == "nn.functional"
                        else {}).get(name)
                if stub and _stub_matches(stub, pyfunc, is_method):
                    ovs = [dict(o, params=[dict(p) for p in o["params"]]) for o in stub]
            # 2. native_functions.yaml for builtins
            if ovs is None and pyfunc is None:
                if ns_key in YAML_MODULE:
                    ovs = native.overloads(f"{YAML_MODULE[ns_key]}_{name}", YAML_MODULE[ns_key],
                                           False, name) or None
                elif ns_key == "Tensor":
                    ovs = native.overloads(name, None, True, name) or None
                else:
                    ovs = native.overloads(name, None, False, name) or None
            # 3. Python source / inspect
            if ovs is None and pyfunc is not None:
                donors = (tb_defs if is_method else vf_defs).get(name)
                ovs = python_overloads(obj, is_method, yret, donors) or None
            if ovs is None and type(obj).__name__ == "OpOverloadPacket":
                ovs = op_packet_overloads(obj, is_method)
            # Tensor methods written in Python that mirror torch.<name> (unique, norm,
            # split, stft...): take torch's overloads when the parameters agree
            if is_method and pyfunc is not None and "torch" in spec_ns:
                ovs = adopt_function_overloads(ovs, spec_ns["torch"], name)
            # 4. the argument parser's strings alone (no stub, no native entry)
            if ovs is None and pyfunc is None:
                ovs = parser_only_overloads(getattr(obj, "__name__", name), is_method) or None
                r = _unanimous_return(native.overloads(name, None, is_method, name)) \
                    if ovs else None
                if r is None and not is_method and name in tb_defs:
                    r = _unanimous_return(tb_defs[name])
                for ov in ovs or []:
                    if r and ov["returns"] == "any":
                        ov.update(r)
            # 5. docstring
            if ovs is None:
                ov = overload_from_docstring(obj, name, is_method)
                ovs = [ov] if ov else None
            ovs = ovs or []
            if pyfunc is None and ovs:
                ovs = reconcile_with_parser(ovs, getattr(obj, "__name__", name), is_method)
            fill_defaults(ovs, pyfunc)
            fill_untyped(ovs, obj, name, is_method)
            ovs = finish_overloads(ovs, is_method, name)
            entry = {"name": name, "doc": doc_url(ns_key, name), "overloads": ovs,
                     "tensor_api": tensor_api(ovs) or is_method}
            if is_method:
                entry["method"] = True
            entries.append(entry)
        spec_ns[ns_key] = entries
    return {
        "torch_version": torch.__version__,
        "generated_by": "stubs/generate_spec.py",
        "namespaces": spec_ns,
        "autograd": backward_names(),
    }


def _param_names(ov, skip_first=False):
    ps = [p for p in ov["params"] if p["name"] != "out"]
    return [p["name"] for p in (ps[1:] if skip_first else ps)]


def adopt_function_overloads(ovs, torch_entries: list, name: str):
    fn = next((e for e in torch_entries if e["name"] == name), None)
    if fn is None or not fn["overloads"]:
        return ovs
    mine = ovs or []
    if not mine:
        return ovs
    my_names = _param_names(mine[0], skip_first=True)
    untyped = any(p["type"] in ("any", "any?") for ov in mine for p in ov["params"][1:]) or \
        any(ov.get("returns") in (None, "any") for ov in mine)
    if not untyped:
        return ovs
    adopted = []
    for ov in fn["overloads"]:
        names = _param_names(ov)
        if not names or names[1:] != my_names or "Tensor" not in ov["params"][0]["type"]:
            continue
        new = json.loads(json.dumps(ov))
        new["params"][0] = {"name": "input", "type": "Tensor", "kind": "positional",
                            "optional": False}
        new["source"] = "torch." + name
        new.pop("deprecated", None)
        adopted.append(new)
    if adopted:
        return adopted
    # same parameters under other signatures: borrow types by name
    donor = _donor_types(fn["overloads"])
    for ov in mine:
        for p in ov["params"][1:]:
            if p["type"] in ("any", "any?") and p["name"] in donor:
                p["type"] = donor[p["name"]]
                if p.get("default") == "None" and "None" not in p["type"] and \
                        not p["type"].endswith("?"):
                    p["type"] = _join_union(_split_union(p["type"]) + ["None"])
        if ov.get("returns") in (None, "any"):
            rets = {json.dumps([o.get("returns"), o.get("return_types")]) for o in fn["overloads"]}
            if len(rets) == 1:
                o = fn["overloads"][0]
                for k in ("returns", "return_types", "return_names"):
                    if k in o:
                        ov[k] = o[k]
    return mine


def _stub_matches(stub_ovs: list, pyfunc, is_method: bool) -> bool:
    """A stub describes a Python function when every stub parameter name exists on it
    (or it takes *args/**kwargs, as boolean_dispatch wrappers do)."""
    try:
        sig = inspect.signature(pyfunc)
    except (TypeError, ValueError):
        return True
    names = set(sig.parameters)
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values()) \
            and len(names) <= 2:
        return True
    for ov in stub_ovs:
        for i, p in enumerate(ov["params"]):
            if is_method and i == 0:
                continue
            if p["name"] not in names and p["name"] != "out":
                return False
    return True


def dump(spec: dict) -> str:
    """Sorted, deterministic, one function per line (diff-friendly, still plain JSON)."""
    lines = ["{"]
    lines.append(f'  "generated_by": {json.dumps(spec["generated_by"])},')
    lines.append('  "namespaces": {')
    ns_items = sorted(spec["namespaces"].items())
    for i, (ns, entries) in enumerate(ns_items):
        lines.append(f"    {json.dumps(ns)}: [")
        entries = sorted(entries, key=lambda e: e["name"])
        for j, e in enumerate(entries):
            sep = "," if j < len(entries) - 1 else ""
            lines.append("      " + json.dumps(e, sort_keys=True, ensure_ascii=True,
                                               separators=(",", ":")) + sep)
        lines.append("    ]" + ("," if i < len(ns_items) - 1 else ""))
    lines.append("  },")
    # ATen overload -> the grad_fn class its result records (AddBackward0), one per line
    grad = sorted(spec.get("autograd", {}).items())
    lines.append('  "autograd": {')
    lines += [f"    {json.dumps(k)}: {json.dumps(v)}" + ("," if i < len(grad) - 1 else "")
              for i, (k, v) in enumerate(grad)]
    lines.append("  },")
    lines.append(f'  "torch_version": {json.dumps(spec["torch_version"])}')
    lines.append("}")
    return "\n".join(lines) + "\n"


BACKWARD_TS = os.path.join(os.path.dirname(HERE), "src", "mirror", "backward_names.ts")


def write_backward_names_ts(names: dict) -> None:
    """The mirror's copy of spec.json's "autograd" table (src/ cannot import stubs/)."""
    body = "".join(f"  {json.dumps(k)}: {json.dumps(v)},\n" for k, v in sorted(names.items()))
    with open(BACKWARD_TS, "w", encoding="utf-8") as f:
        f.write("// Generated by stubs/generate_spec.py from torch's autograd/derivatives.yaml: do not edit.\n"
                "/** ATen overload -> the grad_fn class torch records for its result. */\n"
                "export const BACKWARD: Readonly<Record<string, string>> = {\n" + body + "};\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=os.path.join(HERE, "spec.json"))
    args = ap.parse_args(argv)
    spec = build_spec()
    text = dump(spec)
    json.loads(text)  # stays valid JSON
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    if os.path.abspath(args.output) == os.path.join(HERE, "spec.json"):
        write_backward_names_ts(spec["autograd"])
    counts = ", ".join(f"{k}={len(v)}" for k, v in sorted(spec["namespaces"].items()))
    print(f"wrote {os.path.relpath(args.output)} for torch {spec['torch_version']} ({counts})")


if __name__ == "__main__":
    main()

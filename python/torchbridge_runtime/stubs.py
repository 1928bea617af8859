"""torchbridge-stubs: TypeScript declarations for Python modules, so tsc checks calls into them.

    python -m torchbridge_runtime.stubs mypkg.features [more modules] --out typings/

(the `torchbridge-stubs` bin runs this with the runtime's Python). Each module is imported and its
public functions, classes and constants are read with `inspect` and `typing.get_type_hints`;
`<module>.d.ts` declares them as the proxies torch.py gives (src/py/typed.ts) and adds the module
to torchbridge's `PyModules` by module augmentation, so `torch.py.import('mypkg.features')` is
typed. Hints map as `await` converts values: int/float -> number, str -> string, bool -> boolean,
None -> null, torch.Tensor and np.ndarray -> Tensor, list/tuple -> arrays, dict -> Record or Map,
Optional/Union/Literal -> unions, Callable -> PyCallable (PyCallback as a parameter), generators
and iterators -> PyIterator (for await), classes -> interfaces; anything unannotated -> unknown.
"""

import argparse
import ast
import collections
import collections.abc as cabc
import dataclasses
import datetime
import functools
import importlib
import inspect
import json
import os
import sys
import textwrap
import traceback
import types
import typing

# Names JS keeps for itself on a proxy (proxy.ts): a Python attribute of that name is reached
# with $attr(name), so the stubs leave it out.
_PROXY_RESERVED = {"then", "constructor", "toString", "toJSON", "valueOf", "asymmetricMatch", "nodeType"}
# Reserved words TS refuses as parameter names (Python's own keywords cannot occur).
_TS_RESERVED = set(
    "break case catch class const continue debugger default delete do else enum export extends false finally for "
    "function if import in instanceof new null return super switch this throw true try typeof var void while with "
    "implements interface let package private protected public static yield await arguments eval".split()
)
# Type names a generated file uses: a Python class of the same name gets a trailing underscore.
_TS_TAKEN = {
    "Tensor", "PyArg", "PyResult", "PyInstance", "PyProxy", "PyIterator", "PyCallable", "PyCallback",
    "PyModule", "PyTypedArray", "Module", "Map", "Set", "Record", "Promise", "PromiseLike", "Date",
    "AsyncIterable", "Uint8Array", "Array", "Object", "Function", "String", "Number", "Boolean",
}
_SEQUENCES = {list, cabc.Sequence, cabc.MutableSequence, cabc.Collection, typing.List, typing.Sequence}
_MAPPINGS = {dict, collections.OrderedDict, collections.defaultdict, cabc.Mapping, cabc.MutableMapping, typing.Dict, typing.Mapping}
_SETS = {set, frozenset, cabc.Set, cabc.MutableSet}
_ITERATORS = {cabc.Iterator, cabc.Iterable, cabc.Generator, typing.Iterator, typing.Iterable, typing.Generator}
_UNION_TYPE = getattr(types, "UnionType", None)  # X | Y (Python 3.10+)
UNKNOWN = "unknown"
EMPTY = inspect.Parameter.empty  # no annotation


class StubError(Exception):
    """A module that cannot be stubbed (it does not import); the message says which and why."""


def _module_of(name):
    try:
        return importlib.import_module(name)
    except BaseException as e:  # a module's import may raise anything, SystemExit included
        if isinstance(e, KeyboardInterrupt):
            raise
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
        raise StubError(f"cannot import {name}: {detail}") from None


def _optional_module(name):
    return sys.modules.get(name)


def _hints(obj, globalns=None):
    """typing.get_type_hints, or, where one hint does not resolve (a forward reference to a name
    the module lacks), each hint that does; the others are left out (unknown)."""
    try:
        return typing.get_type_hints(obj, globalns=globalns)
    except Exception:
        pass
    raw = getattr(obj, "__annotations__", None) or {}
    ns = globalns if globalns is not None else getattr(sys.modules.get(getattr(obj, "__module__", "")), "__dict__", {})
    out = {}
    for name, ann in raw.items():
        try:
            out[name] = eval(ann, ns) if isinstance(ann, str) else ann  # noqa: S307 - the user's own annotation
        except Exception:
            continue
    return out


def _doc(obj):
    if inspect.isclass(obj):
        return _class_doc(obj)
    doc = inspect.getdoc(obj)
    # a constant's getdoc is its type's docstring (int's, say): that documents nothing here
    if not doc or (not inspect.isclass(obj) and doc == inspect.getdoc(type(obj))):
        return None
    return doc


def _class_doc(cls):
    """The class's own docstring: not one inherited (getdoc's fallback, Enum's say), nor the one
    dataclass writes (its signature, which the stubs show anyway)."""
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return None
    if dataclasses.is_dataclass(cls):
        try:
            if doc == cls.__name__ + str(inspect.signature(cls)).replace(" -> None", ""):
                return None
        except (TypeError, ValueError):
            pass
    return inspect.cleandoc(doc)


def _tsdoc(lines_or_text, indent):
    """A TSDoc comment (`*/` in the text cannot end it)."""
    if lines_or_text is None:
        return []
    text = lines_or_text if isinstance(lines_or_text, str) else "\n\n".join(x for x in lines_or_text if x)
    if not text:
        return []
    body = [(" * " + line).rstrip() for line in text.replace("*/", "*\\/").splitlines()]
    return [indent + x for x in ["/**", *body, " */"]]


def _paren(t):
    return f"({t})" if (" | " in t or "=>" in t) else t


def _split_union(t):
    """The members of a TS union type written out: split at ` | ` outside brackets and quotes."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(t):
        if quote:
            quote = None if ch == quote and t[i - 1] != "\\" else quote
        elif ch == '"':
            quote = ch
        elif ch in "<([{":
            depth += 1
        elif ch in ">)]}" and t[i - 1] != "=":  # `=>` closes nothing
            depth -= 1
        elif depth == 0 and t.startswith(" | ", i):
            parts.append(t[start:i])
            start = i + 3
    return parts + [t[start:]]


def _union(parts):
    """One TS union of `parts` (each a type, maybe a union itself), each member once; unknown
    where any member is unknown."""
    seen = []
    for q in (q for p in parts for q in _split_union(p)):
        if q not in seen:
            seen.append(q)
    return UNKNOWN if UNKNOWN in seen else " | ".join(seen)


class Registry:
    """The classes the stubs declare (those the modules export), by class: where each is
    declared, so annotations naming it become its interface."""

    def __init__(self):
        self.classes = {}  # cls -> (module name, TS name)


class Writer:
    """Writes one module's declarations."""

    def __init__(self, module, registry, exported):
        self.module = module
        self.name = module.__name__
        self.registry = registry
        self.exported = exported  # public (name, obj) pairs, in module order
        self.imports = set()

    # -- types ------------------------------------------------------------------------------

    def _class_ref(self, cls, what=""):
        where = self.registry.classes.get(cls)
        if where is None:
            return None
        module, ts = where
        ref = ts + what
        return ref if module == self.name else f"import('./{module}.js').{ref}"

    def value(self, tp):
        """The TS type of the value `await` gives for a Python value of type `tp`."""
        if tp is None or tp is type(None):
            return "null"
        if tp is inspect.Parameter.empty or tp is typing.Any or tp is object or isinstance(tp, (str, typing.ForwardRef, typing.TypeVar)):
            return UNKNOWN
        if hasattr(tp, "__supertype__"):  # typing.NewType
            return self.value(tp.__supertype__)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is typing.Union or (_UNION_TYPE is not None and origin is _UNION_TYPE):
            return _union([self.value(a) for a in args])
        if origin is typing.Literal:
            return _union([self._literal(a) for a in args])
        if origin in (typing.ClassVar, typing.Final) or origin is getattr(typing, "Annotated", None):
            return self.value(args[0]) if args else UNKNOWN
        if origin is not None:
            return self._generic(origin, args)
        return self._plain(tp)

    def _literal(self, v):
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float, str)):
            return json.dumps(v)
        return UNKNOWN  # an Enum member: a proxy, not a literal JS knows

    def _generic(self, origin, args):
        if origin in _SEQUENCES:
            return f"{_paren(self.value(args[0]) if args else UNKNOWN)}[]"
        if origin is tuple:
            if not args:
                return "unknown[]"
            if args == ((),):
                return "[]"
            if len(args) == 2 and args[1] is Ellipsis:
                return f"{_paren(self.value(args[0]))}[]"
            return "[" + ", ".join(self.value(a) for a in args) + "]"
        if origin in _MAPPINGS:
            return self._dict(*(args or (None, None)))
        if origin in _SETS:
            return f"Set<{self.value(args[0]) if args else UNKNOWN}>"
        if origin is cabc.Callable:
            return self._callable(args)
        if origin in _ITERATORS:
            return f"{self._import('PyIterator')}<{self.value(args[0]) if args else UNKNOWN}>"
        if origin is type:
            ref = self._class_ref(args[0], ".Class") if args and inspect.isclass(args[0]) else None
            return ref or UNKNOWN
        return self._plain(origin)  # a user's generic class, e.g. Box[int]

    def _dict(self, key, val):
        v = self.value(val) if val is not None else UNKNOWN
        if key is str:
            return f"Record<string, {v}>"
        if key is None:  # keys unknown: strings give a plain object, others a Map (tree.ts)
            return f"Record<string, {v}> | Map<unknown, {v}>"
        return f"Map<{self.value(key)}, {v}>"

    def _callable(self, args):
        self._import("PyCallable")
        if not args:
            return "PyCallable<unknown[], unknown>"
        params, ret = args[0], args[1]
        plist = "unknown[]" if params is Ellipsis or not isinstance(params, (list, tuple)) else "[" + ", ".join(self.value(p) for p in params) + "]"
        return f"PyCallable<{plist}, {self.value(ret)}>"

    def _plain(self, tp):
        if not inspect.isclass(tp):
            return UNKNOWN
        if tp is bool:
            return "boolean"
        if tp in (int, float):
            return "number"
        if tp is str:
            return "string"
        if tp in (bytes, bytearray):
            return "Uint8Array"
        if tp in (list, tuple):
            return "unknown[]"
        if tp in (dict, collections.OrderedDict, collections.defaultdict):
            return self._dict(None, None)
        if tp in (set, frozenset):
            return "Set<unknown>"
        if tp in (datetime.datetime, datetime.date):
            return "Date"
        if tp is cabc.Callable:
            return self._callable(())
        if tp in _ITERATORS or tp is types.GeneratorType:
            return f"{self._import('PyIterator')}<unknown>"
        torch = _optional_module("torch")
        if torch is not None and issubclass(tp, torch.Tensor):
            return self._import("Tensor")
        np = _optional_module("numpy")
        if np is not None:
            if issubclass(tp, np.ndarray):
                return self._import("Tensor")
            if issubclass(tp, np.bool_):
                return "boolean"
            if issubclass(tp, (np.integer, np.floating)):
                return "number"
        return self._class_ref(tp) or UNKNOWN

    def _import(self, name):
        self.imports.add(name)
        return name

    def result(self, tp):
        """What a call or attribute read gives: a proxy awaitable to the value."""
        v = self.value(tp)
        return self._import("PyProxy") if v == UNKNOWN else f"{self._import('PyResult')}<{v}>"

    def param(self, tp):
        """What a parameter of type `tp` takes."""
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        members = args if origin is typing.Union or (_UNION_TYPE is not None and origin is _UNION_TYPE) else (tp,)
        special, plain = [], []
        for m in members:
            np = _optional_module("numpy")
            if np is not None and inspect.isclass(m) and issubclass(m, np.ndarray):
                special.append(f"{self._import('PyArg')}<{self._import('Tensor')}> | {self._import('PyTypedArray')}")
            elif typing.get_origin(m) is cabc.Callable or m is cabc.Callable:
                a = typing.get_args(m)
                c = self._callable(a)[len("PyCallable"):]
                special.append(f"{self._import('PyCallback')}{c}")
            else:
                plain.append(m)
        parts = list(special)
        if plain:
            v = _union([self.value(m) for m in plain])
            if v == UNKNOWN:
                return UNKNOWN
            parts.append(f"{self._import('PyArg')}<{v}>")
        return " | ".join(parts)

    # -- declarations -----------------------------------------------------------------------

    def signatures(self, fn, name, bound, doc_lines, returns=None):
        """Overloads for a call of `fn`. TS has no keyword arguments: the positional ones come in
        order, then one object of the keyword ones; there is an overload per count of defaulted
        positional arguments given, so that `f(x, { k: 2 })` and `f(x, 2)` both check, and a
        parameter given positionally is not offered as a keyword again."""
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):  # a builtin without a signature
            return [*_tsdoc(doc_lines, ""), f"{name}(...args: unknown[]): {self._import('PyProxy')};"]
        hints = _hints(fn, vars(sys.modules.get(fn.__module__, self.module)))
        params = list(sig.parameters.values())
        if bound and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
            params = params[1:]  # self, cls
        hint = lambda p: hints.get(p.name, EMPTY if isinstance(p.annotation, str) else p.annotation)  # noqa: E731
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        keywordable = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        star = next((p for p in params if p.kind == p.VAR_POSITIONAL), None)
        starstar = next((p for p in params if p.kind == p.VAR_KEYWORD), None)
        required = sum(1 for p in positional if p.default is p.empty)
        if returns is None:
            ret = hints.get("return", EMPTY)
            if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
                returns = self._import("PyProxy")  # the call gives a coroutine, not its result
            elif ret is EMPTY and inspect.isgeneratorfunction(fn):
                returns = self.result(typing.Iterator)
            else:
                returns = self.result(ret)
        out = []
        for given in range(required, len(positional) + 1):
            args = [f"{_ts_param(p.name)}: {self.param(hint(p))}" for p in positional[:given]]
            must = lambda p: p.kind == p.KEYWORD_ONLY and p.default is p.empty  # noqa: E731
            kw = [p for p in keywordable if p not in positional[:given]]
            fields = [f"{p.name}{'' if must(p) else '?'}: {self.param(hint(p))}" for p in kw]
            if starstar is not None:  # **kwargs: any name; typed where no named keyword is
                fields.append(f"[keyword: string]: {UNKNOWN if fields else self.param(hint(starstar))}")
            kw_type = f"{{ {'; '.join(fields)} }}" if fields else None
            kwargs = [f"kwargs{'' if any(must(p) for p in kw) else '?'}: {kw_type}"] if kw_type else []
            variants = [args + kwargs]
            if star is not None and given == len(positional):  # *args: a rest parameter, then maybe the keywords
                item = _paren(self.param(hint(star)))
                rest = f"...{_ts_param(star.name)}"
                variants = [[*args, f"{rest}: {item}[]"]] + ([[*args, f"{rest}: [...{item}[], {kw_type}]"]] if kw_type else [])
            for v in variants:
                out += _tsdoc(doc_lines, "")
                out.append(f"{name}({', '.join(v)}): {returns};")
        return out

    def function_doc(self, fn, shown_name):
        try:
            sig = str(inspect.signature(fn))
        except (TypeError, ValueError):
            sig = "(...)"
        return [_doc(fn), f"Python: `{shown_name}{sig}`"]

    def constant(self, name, value, annotations):
        tp = annotations.get(name)
        v = self.value(tp) if tp is not None else self._infer(value)
        return f"readonly {name}: {self._import('PyProxy') if v == UNKNOWN else self._import('PyResult') + '<' + v + '>'};"

    def _infer(self, value):
        if value is None or isinstance(value, (bool, int, float, str, bytes)):
            return self._plain(type(value))
        if isinstance(value, (list, tuple)):
            return "unknown[]"
        if isinstance(value, dict):
            return self._dict(None, None)
        return self._plain(type(value))

    def klass(self, cls, ts_name):
        """`interface Name` (an instance, as a settled proxy) and `namespace Name { interface
        Class }` (the class: called without `new`, as Python does, with its static and class
        methods and class attributes)."""
        qual = f"{cls.__module__}.{cls.__qualname__}"
        top = cls.__module__.split(".")[0]
        # members of the class and of its bases from the same package (a framework base such as
        # torch.nn.Module is not spelled out: reach its members with $attr)
        chain = [c for c in cls.__mro__ if c is not object and c.__module__.split(".")[0] == top]
        brand = "{ " + "; ".join(f"{json.dumps(f'{c.__module__}.{c.__qualname__}')}: true" for c in chain) + " }"
        inst, klass, seen = [], [], set(_PROXY_RESERVED)
        iterable = None
        frozen = dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen

        def attribute(name, tp, doc=None, readonly=False, setter=None):
            r = self.result(tp)
            if readonly:
                return [*_tsdoc(doc, ""), f"readonly {name}: {r};"]
            return [*_tsdoc(doc, ""), f"get {name}(): {r};", f"set {name}(value: {self.param(tp if setter is None else setter)});"]

        for c in chain:
            ns = vars(sys.modules[c.__module__])
            own_ann = c.__dict__.get("__annotations__", {})
            for name, tp in _hints(c, ns).items():
                if name not in own_ann or name in seen or not _public(name):
                    continue
                seen.add(name)
                if typing.get_origin(tp) is typing.ClassVar:
                    inst.append(attribute(name, tp, readonly=True))
                    klass.append(attribute(name, tp, readonly=True))
                else:
                    inst.append(attribute(name, tp, readonly=frozen))
            for name, attr in c.__dict__.items():
                if name in seen or (not _public(name) and name not in ("__call__", "__iter__")):
                    continue
                seen.add(name)
                if isinstance(attr, property):
                    ret = _hints(attr.fget, ns).get("return", EMPTY) if attr.fget else EMPTY
                    if attr.fset is None:
                        inst.append(attribute(name, ret, _doc(attr), readonly=True))
                    else:
                        vals = [v for k, v in _hints(attr.fset, ns).items() if k != "return"]
                        inst.append(attribute(name, ret, _doc(attr), setter=vals[0] if vals else None))
                elif isinstance(attr, functools.cached_property):
                    inst.append(attribute(name, _hints(attr.func, ns).get("return", EMPTY), _doc(attr.func)))
                elif isinstance(attr, (staticmethod, classmethod)):
                    sigs = self.signatures(attr.__func__, name, isinstance(attr, classmethod), self.function_doc(getattr(cls, name), f"{cls.__name__}.{name}"))
                    inst.append(sigs)
                    klass.append(sigs)
                elif inspect.isfunction(attr):
                    if name == "__iter__":
                        v = self.value(_hints(attr, ns).get("return", typing.Iterator))
                        iterable = v[len("PyIterator<") : -1] if v.startswith("PyIterator<") else UNKNOWN
                    else:
                        shown = f"{cls.__name__}.{name}"
                        inst.append(self.signatures(attr, "" if name == "__call__" else name, True, self.function_doc(attr, shown)))
                elif not callable(attr):  # a class attribute (dataclass fields were met above)
                    v = self._infer(attr)
                    inst.append(attribute(name, EMPTY, readonly=True) if v == UNKNOWN else [f"readonly {name}: {self._import('PyResult')}<{v}>;"])
                    klass.append(inst[-1])
            # attributes __init__ sets on self (self.x = ... / self.x: T = ...)
            init_hints = _hints(c.__dict__["__init__"], ns) if inspect.isfunction(c.__dict__.get("__init__")) else {}
            for name, ann, source in _init_attributes(c):
                if name in seen or not _public(name):
                    continue
                seen.add(name)
                # self.x: T = ..., or self.x = x where __init__'s parameter x is annotated
                tp = _eval_annotation(ann, ns) if ann is not None else init_hints.get(source, inspect.Parameter.empty)
                inst.append(attribute(name, tp))
        ctor_doc = [_doc(cls)]
        try:
            ctor_doc.append(f"Python: `{cls.__name__}{inspect.signature(cls)}`")
        except (TypeError, ValueError):
            pass
        ctor = self.signatures(_init_of(cls), "", True, ctor_doc, returns=f"{self._import('PyResult')}<{ts_name}>")
        extends = ["PyInstance"] + ([f"AsyncIterable<{iterable}>"] if iterable is not None else [])
        lines = [*_tsdoc(_doc(cls), ""), f"export interface {ts_name} extends {', '.join(extends)} {{", f"  readonly $classes?: {brand};"]
        lines += _indent([x for m in inst for x in m], "  ")
        lines += ["}", f"export declare namespace {ts_name} {{", f"  /** The class {qual}: call it (no `new`) to make an instance. */", "  interface Class extends PyInstance {"]
        lines += _indent(ctor + [x for m in klass for x in m], "    ")
        lines += ["  }", "}"]
        return lines

    def write(self):
        annotations = _hints(self.module, self.module.__dict__) if hasattr(self.module, "__annotations__") else {}
        members, classes = [], []
        for name, obj in self.exported:
            if name in _PROXY_RESERVED:
                continue
            if inspect.isclass(obj):
                module, ts = self.registry.classes[obj]
                ref = ts if module == self.name else f"import('./{module}.js').{ts}"
                if module == self.name:
                    classes += ["", *self.klass(obj, ts)]
                members += [*_tsdoc(_doc(obj), ""), f"readonly {name}: {ref}.Class;"]
            elif inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.ismethod(obj):
                members += self.signatures(obj, name, False, self.function_doc(obj, name))  # a bound method's signature has no self
            else:
                members += [*_tsdoc(_constant_doc(self.module, name), ""), self.constant(name, obj, annotations)]
        body = [
            *classes,
            "",
            *_tsdoc([_doc(self.module), f"The Python module {self.name}, as `torch.py.import({json.dumps(self.name)})` gives it."], ""),
            "export interface Module extends PyInstance {",  # no class is named Module here (_TS_TAKEN)
            *_indent(members, "  "),
            "}",
            "",
            "declare module 'torchbridge' {",
            "  interface PyModules {",
            f"    {json.dumps(self.name)}: PyModule<Module>;",
            "  }",
            "}",
            "",
        ]
        # after the body: writing it collects the names it uses
        head = [
            f"// Generated by torchbridge-stubs from the Python module {self.name}; do not edit (rerun the command).",
            f"import type {{ {', '.join(sorted(self.imports | {'PyInstance', 'PyModule'}))} }} from 'torchbridge';",
        ]
        return "\n".join(head + body)


def _public(name):
    return not name.startswith("_") and name not in _PROXY_RESERVED


def _ts_param(name):
    return name + "_" if name in _TS_RESERVED else name


def _indent(lines, indent):
    return [indent + x if x else x for x in lines]


def _init_of(cls):
    """What inspect.signature(cls) reads, as a function (so `self` is dropped like a method's)."""
    for c in cls.__mro__:
        if "__init__" in c.__dict__ and c is not object:
            return c.__dict__["__init__"]
    return lambda self: None


def _init_attributes(cls):
    """(name, annotation source or None, the name of the variable assigned or None) for each
    `self.name = ...` in the class's __init__."""
    init = cls.__dict__.get("__init__")
    if not inspect.isfunction(init):
        return []
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError):
        return []
    out = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                ann = ast.unparse(node.annotation) if isinstance(node, ast.AnnAssign) else None
                source = node.value.id if isinstance(node.value, ast.Name) else None
                out.append((t.attr, ann, source))
    return out


def _eval_annotation(source, ns):
    try:
        return eval(source, ns)  # noqa: S307 - the user's own annotation
    except Exception:
        return inspect.Parameter.empty


def _constant_doc(module, name):
    """A `#: text` comment right above the constant's assignment (Sphinx's convention)."""
    try:
        lines = inspect.getsource(module).splitlines()
    except (OSError, TypeError):
        return None
    for i, line in enumerate(lines):
        if line.startswith((f"{name} =", f"{name}:")) and i > 0 and lines[i - 1].startswith("#:"):
            return lines[i - 1][2:].strip()
    return None


def _exported(module):
    """(name, obj) for the module's public API: __all__ where it has one; else its public
    functions and classes defined in it, and its public constants (not modules, not imports of
    other modules' functions or classes, not typing constructs)."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return [(n, getattr(module, n)) for n in names if hasattr(module, n)]
    out = []
    for name, obj in vars(module).items():
        if not _public(name) or inspect.ismodule(obj):
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj):
            if getattr(obj, "__module__", None) != module.__name__:
                continue
        elif type(obj).__module__ in ("typing", "typing_extensions") or typing.get_origin(obj) is not None:
            continue  # an alias such as Reduction = Literal[...]
        out.append((name, obj))
    return out


def generate(module_names, out_dir):
    """Writes `<module>.d.ts` for each module into out_dir; returns the paths written."""
    modules = [_module_of(n) for n in module_names]
    registry = Registry()
    exported = {}
    for m in modules:
        exported[m.__name__] = _exported(m)
    names = collections.defaultdict(set)  # module -> the TS names declared in it
    for m in modules:
        for _, obj in exported[m.__name__]:
            if not inspect.isclass(obj) or obj in registry.classes:
                continue
            # declared in the module that defines it where that one is stubbed and exports it,
            # else in the first module that exports it
            home = obj.__module__ if any(o is obj for _, o in exported.get(obj.__module__, ())) else m.__name__
            ts = obj.__name__ + ("_" if obj.__name__ in _TS_TAKEN else "")
            while ts in names[home]:
                ts += "_"
            names[home].add(ts)
            registry.classes[obj] = (home, ts)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for m in modules:
        text = Writer(m, registry, exported[m.__name__]).write()
        path = os.path.join(out_dir, f"{m.__name__}.d.ts")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        paths.append(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="torchbridge-stubs",
        description="Generate TypeScript declarations (.d.ts) for Python modules, so torch.py.import(name) is typed.",
    )
    parser.add_argument("modules", nargs="+", metavar="MODULE", help="importable module names, e.g. mypkg.features")
    parser.add_argument("--out", default="typings", help="directory for the .d.ts files (default: typings)")
    args = parser.parse_args(argv)
    try:
        paths = generate(args.modules, args.out)
    except StubError as e:
        print(f"torchbridge-stubs: {e}", file=sys.stderr)
        return 1
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Check stubs/spec.json against the torch that is installed.

    .venv/bin/python stubs/check_spec.py [--spec stubs/spec.json] [--strict]

Prints, per namespace: the public callables found by introspection, how many of them
the spec marks tensor_api, how many tensor_api names have at least one overload, and
how many have an overload whose parameters and return are all typed (no `any`).
Then it checks every overload of a builtin against the signature strings torch's
Python argument parser was compiled with (they sit in libtorch_python as plain text,
e.g. "linalg_vector_norm(Tensor input, Scalar ord=2, ...)"): same parameter names, in
the same order, positional vs keyword-only the same. Names without a signature, the
tensor_api names left partly untyped, and argument-parser disagreements go to
stubs/unresolved.txt. --strict exits 1 when a namespace is under 98% or an overload
disagrees with the argument parser.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no stubs/__pycache__

import generate_spec as gs  # noqa: E402  (same "public callable" rule as the generator)
import torch  # noqa: E402

TARGET = 0.98


def _overload_key(ov: dict, method: bool):
    ps = ov["params"][1:] if method else ov["params"]
    return [(p["name"], "positional" if p["kind"] in ("positional", "varargs") else p["kind"])
            for p in ps if p["kind"] != "varkw"]


def _sig_key(sig):
    return [(g["name"], g["kind"]) for g in sig["params"] if g["name"] != "out"]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default=os.path.join(HERE, "spec.json"))
    ap.add_argument("--out", default=os.path.join(HERE, "unresolved.txt"))
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args(argv)

    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)
    if spec["torch_version"] != torch.__version__:
        print(f"note: spec is for torch {spec['torch_version']}, installed is {torch.__version__}")

    sigs = gs.argparser_signatures()
    report = []
    rows = []
    failing = False
    total_mismatch = 0
    total_checked = 0
    for ns in gs.NAMESPACES:
        owner, dotted, is_method = gs.NAMESPACES[ns]
        live = gs.public_callables(ns)
        entries = {e["name"]: e for e in spec["namespaces"].get(ns, [])}
        missing_in_spec = sorted(set(live) - set(entries))
        tensor = [n for n in live if entries.get(n, {}).get("tensor_api")]
        with_sig = [n for n in tensor if entries[n]["overloads"]]
        typed = [n for n in with_sig if any(_fully_typed(ov, is_method)
                                            for ov in entries[n]["overloads"])]
        no_sig_all = sorted(n for n in live if n in entries and not entries[n]["overloads"])
        partly = sorted(set(with_sig) - set(typed))
        share = len(with_sig) / len(tensor) if tensor else 1.0
        tshare = len(typed) / len(tensor) if tensor else 1.0
        failing |= share < TARGET
        rows.append((ns, len(live), len(tensor), len(with_sig), share, len(typed), tshare))

        # arg-parser cross-check for builtins
        mism = []
        for n in sorted(entries):
            obj = live.get(n)
            if obj is None or gs._is_python_function(obj):
                continue
            bname = getattr(obj, "__name__", n)
            cand = sigs.get(bname, [])
            if not cand:
                continue
            exact = [_sig_key(g) for g in cand if g["exact"]]
            tails = [_sig_key(g) for g in cand if not g["exact"]]
            for ov in entries[n]["overloads"]:
                if ov.get("source", "").startswith(("inspect", "source", "docstring", "torch.")):
                    continue
                k = _overload_key(ov, is_method)
                if is_method and not k and [] not in exact + tails:
                    continue  # no-argument methods are bound without a parser
                total_checked += 1
                keys = exact + tails
                if k not in keys:
                    mism.append(f"{dotted}.{n}{_fmt(ov, is_method)}  "
                                f"[{ov.get('source')}]  parser has: "
                                + " | ".join("(" + ", ".join(
                                    f"{'*' if kk == 'kw_only' else ''}{nn}" for nn, kk in kk_)
                                             + ")" for kk_ in exact))
        total_mismatch += len(mism)

        report.append(f"## {ns}: public callables without a signature ({len(no_sig_all)})")
        report += [f"{dotted}.{n}" + ("" if entries[n]["tensor_api"] else "  (not tensor_api)")
                   for n in no_sig_all]
        if missing_in_spec:
            report.append(f"## {ns}: public callables missing from spec.json (regenerate?)")
            report += [f"{dotted}.{n}" for n in missing_in_spec]
        report.append(f"## {ns}: tensor_api names whose every overload has an `any` type "
                      f"({len(partly)})")
        for n in partly:
            anys = sorted({p["name"] for ov in entries[n]["overloads"] for p in ov["params"]
                           if p["type"] in ("any", "any?", "any[]")} |
                          ({"<return>"} if all(ov.get("returns") == "any"
                                               for ov in entries[n]["overloads"]) else set()))
            report.append(f"{dotted}.{n}: {', '.join(anys)}")
        report.append(f"## {ns}: overloads that disagree with torch's argument parser "
                      f"({len(mism)})")
        report += mism
        notes = doc_name_notes(ns, live, entries, is_method)
        if notes:
            report.append(f"## {ns}: note, the docs' first line names a parameter differently "
                          f"from the keyword Python accepts ({len(notes)}; the spec keeps the "
                          f"accepted keyword)")
            report += notes
        report.append("")

    print(f"torch {torch.__version__}; spec {os.path.relpath(args.spec)} "
          f"(torch {spec['torch_version']})")
    hdr = f"{'namespace':<14}{'public':>8}{'tensor_api':>12}{'with sig':>10}{'share':>8}" \
          f"{'all typed':>11}{'share':>8}"
    print(hdr)
    print("-" * len(hdr))
    for ns, n_live, n_t, n_s, sh, n_ty, tsh in rows:
        print(f"{ns:<14}{n_live:>8}{n_t:>12}{n_s:>10}{sh:>8.1%}{n_ty:>11}{tsh:>8.1%}")
    print(f"argument-parser check: {total_checked} builtin overloads, "
          f"{total_mismatch} disagree" + ("" if sigs else " (libtorch_python not found)"))
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("# written by stubs/check_spec.py -- do not edit\n")
        f.write(f"# torch {torch.__version__}\n\n")
        f.write("\n".join(report) + "\n")
    print(f"details: {os.path.relpath(args.out)}")
    if args.strict and (failing or total_mismatch):
        sys.exit(1)


def doc_name_notes(ns, live, entries, is_method):
    """e.g. linalg.vector_norm is documented as (x, ord, ...) but the parser's keyword is
    `input` (torch also accepts the numpy alias x); linalg.inv documents and takes A"""
    notes = []
    for n in sorted(entries):
        obj = live.get(n)
        if obj is None or gs._is_python_function(obj):
            continue
        got = gs.docstring_signature(obj, n)
        if not got:
            continue
        doc_names = []
        for a in gs._split_top(got[0]):
            a = a.split("=")[0].split(":")[0].strip().lstrip("*\\").strip()
            if a in ("", "/") or not a.split():
                continue
            doc_names.append(a.split()[-1])
        if not all(re.fullmatch(r"[A-Za-z_]\w*", d) for d in doc_names):
            continue
        doc_names = [d for d in doc_names if d != "out"]
        spec_sets = [[p["name"] for p in (ov["params"][1:] if is_method else ov["params"])]
                     for ov in entries[n]["overloads"]]
        if not spec_sets or any(set(doc_names) <= set(s) for s in spec_sets):
            continue
        best = max(spec_sets, key=lambda s: len(set(s) & set(doc_names)))
        diff = [f"{d}->{s}" for d, s in zip(doc_names, best) if d != s and d not in best]
        if diff:
            notes.append(f"{n}: documented ({', '.join(doc_names)}), keyword "
                         f"({', '.join(best)}): {'; '.join(diff)}")
    return notes


def _fully_typed(ov: dict, method: bool) -> bool:
    for p in ov["params"]:
        if p["kind"] == "varkw":
            continue
        if p["type"] in ("any", "any?", "any[]"):
            return False
    return ov.get("returns") not in (None, "any")


def _fmt(ov, method):
    parts = []
    star = False
    for p in (ov["params"][1:] if method else ov["params"]):
        if p["kind"] == "kw_only" and not star:
            parts.append("*")
            star = True
        if p["kind"] == "varargs":
            star = True
        parts.append(("*" if p["kind"] == "varargs" else "**" if p["kind"] == "varkw" else "")
                     + p["name"])
    return "(" + ", ".join(parts) + ")"


if __name__ == "__main__":
    main()

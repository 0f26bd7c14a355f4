"""``layergraph gradcheck``: check every registered built-in layer case (or a user module's layers) and print a
table; exit status 1 on any failure."""

import time

import numpy as np


def register(sub):
    p = sub.add_parser("gradcheck", help="gradient-check every built-in layer (or a module's layers)",
                       description="Gradient-check every registered layer case; exit 1 on any failure.")
    p.add_argument("--mode", choices=["auto", "full", "sampled", "directional"], default="auto",
                   help="elements to check (default: auto)")
    p.add_argument("--seed", type=int, default=0, help="seed of the cases and the check (default: 0)")
    p.add_argument("--module", action="append", default=[], metavar="MODULE",
                   help="import MODULE (a dotted module name, importable as it is or from the current directory, "
                        "or the path to a .py file, as bench --plugin) and check the Layer subclasses it defines "
                        "instead of the built-ins (repeatable); a class without a registered case is a failure")
    p.add_argument("--precision", choices=["float64", "native"], default="float64",
                   help="dtype of the numeric pass (default: float64)")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="worker processes for the element-wise evaluations (default: 1)")
    p.add_argument("--save-failures", metavar="DIR", default=None,
                   help="write each failing case to DIR/<case>.npz (replay with layergraph.gradcheck.replay)")
    p.add_argument("--verbose", "-v", action="store_true", help="print every report, not only failures")
    p.set_defaults(run=run)


def _selected(modules):
    from ..bench.plugins import import_module_or_path
    from ..gradcheck import all_cases, cases_for
    from ..testing import layer_classes

    if not modules:
        return [c for c in all_cases() if c.layer_type.__module__.startswith("layergraph.")], []
    cases, missing = [], []
    for name in modules:
        try:
            module = import_module_or_path(name, what="--module")
        except ImportError as err:  # the message names the module and, when it raised, the original exception
            raise ValueError(str(err)) from err
        for cls in layer_classes(module):
            mine = cases_for(cls)
            cases += mine
            if not mine:
                missing.append(cls)
    return cases, missing


def _save_failure(directory, label, train, report):
    import os
    import re

    from ..gradcheck import GradCheckError

    os.makedirs(directory, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", label) + ("" if train else "_eval")
    try:
        path = GradCheckError(report).save(os.path.join(directory, stem + ".npz"))
    except ValueError as err:
        print(f"could not save {label}: {err}")
        return
    print(f"saved failing case to {path}")


def run(args):
    from ..gradcheck import GradCaseError, gradcheck

    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    cases, missing = _selected(args.module)
    rows, failed = [], 0
    for case in cases:
        for train in case.modes:
            try:
                layer, x, t = case.build(np.random.default_rng(args.seed))
            except GradCaseError as err:   # a malformed case fails alone; the others still run
                print(err)
                failed += 1
                rows.append(("FAIL", case.label, str(train), "-", "-", "-", "-", "malformed case"))
                continue
            start = time.perf_counter()
            report = gradcheck(layer, x, t, mode=args.mode, seed=args.seed, train=train, precision=args.precision,
                               workers=args.jobs)
            elapsed = time.perf_counter() - start
            failed += not report.ok
            worst = max(report.tensors.values(), key=lambda r: r.max_rel_err, default=None)
            rows.append(("PASS" if report.ok else "FAIL", case.label, str(train), str(len(report.tensors)),
                         f"{worst.max_rel_err:.2g}" if worst else "-", str(report.kinks),
                         str(report.evaluations), f"{elapsed * 1e3:.0f}"))
            if args.verbose or not report.ok:
                print(report)
            if not report.ok and args.save_failures:
                _save_failure(args.save_failures, case.label, train, report)
    for cls in missing:
        failed += 1
        rows.append(("FAIL", f"{cls.__module__}.{cls.__qualname__}", "-", "-", "-", "-", "-", "no case registered"))
    header = ("", "case", "train", "tensors", "max rel err", "kinks", "evals", "ms")
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if not rows:
        print("no layer cases found")
    print(f"{failed} failed" if failed else f"all {len(rows)} checks pass")
    return 1 if failed or not rows else 0

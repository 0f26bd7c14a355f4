"""``layergraph gradcheck``: check every registered built-in layer case and print the reports."""

import numpy as np


def register(sub):
    p = sub.add_parser("gradcheck", help="gradient-check every built-in layer",
                       description="Gradient-check every registered layer case in float64; exit 1 on any failure.")
    p.add_argument("--mode", choices=["auto", "full", "sampled"], default="auto", help="elements to check")
    p.add_argument("--seed", type=int, default=0, help="seed of the cases and the check")
    p.add_argument("--verbose", "-v", action="store_true", help="print every report, not only failures")
    p.set_defaults(run=run)


def run(args):
    from ..gradcheck import all_cases, gradcheck

    failed = 0
    for case in all_cases():
        layer, x, t = case.build(np.random.default_rng(args.seed))
        for train in case.modes:
            report = gradcheck(layer, x, t, mode=args.mode, seed=args.seed, train=train)
            failed += not report.ok
            if args.verbose or not report.ok:
                print(report)
            else:
                print(f"PASS  {case.label} (train={train})")
    print(f"{failed} failed" if failed else "all layers pass")
    return 1 if failed else 0

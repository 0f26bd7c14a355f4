"""``layergraph data fetch mnist``: download the MNIST files and verify their checksums."""

import sys


def register(sub):
    p = sub.add_parser("data", help="download datasets", description="Download datasets into the local cache.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    fetch = actions.add_parser("fetch", help="download a dataset and verify its checksums",
                               description="Download a dataset from the usual public mirrors, verify md5 and "
                                           "sha256, and write each file atomically.")
    fetch.add_argument("dataset", choices=["mnist"], help="the dataset to download")
    fetch.add_argument("--dest", default=None,
                       help="target directory (default: $LAYERGRAPH_DATA/mnist or ~/.cache/layergraph/mnist)")
    fetch.add_argument("--overwrite", action="store_true", help="download again even if verified files exist")
    fetch.add_argument("--mirror", action="append", default=None, metavar="URL",
                       help="base URL to try instead of the built-in mirrors (repeatable, tried in order)")
    fetch.add_argument("--timeout", type=float, default=30.0, help="seconds per connection attempt (default 30)")
    fetch.set_defaults(run=run_fetch)


def run_fetch(args):
    from ..data import fetch_mnist

    def progress(name, done, total):
        if sys.stderr.isatty():
            of = f"/{total / 1e6:.1f}" if total else ""
            print(f"\r  {name}: {done / 1e6:.1f}{of} MB", end="", file=sys.stderr, flush=True)

    dest = fetch_mnist(args.dest, mirrors=args.mirror, overwrite=args.overwrite, timeout=args.timeout, log=print, progress=progress)
    print(f"MNIST files verified in {dest}")
    return 0

"""The ``layergraph`` command: one module per sub-command, each with ``register(subparsers)``."""

import argparse
import os
import sys

from .. import __version__


class _VersionAction(argparse.Action):
    """``--version``: layergraph's version, NumPy's and SciPy's, and the BLAS kernels the products run on (read
    only when asked: looking up the BLAS libraries takes a few milliseconds)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        import numpy
        import scipy

        from ..threads import blas_summary

        print(f"layergraph {__version__} (numpy {numpy.__version__}, scipy {scipy.__version__}; {blas_summary()})")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line on stderr and exit status 2, never a traceback.
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    """Return the top-level parser with every sub-command registered."""
    parser = _Parser(prog="layergraph", description="Neural networks from layer objects on NumPy.")
    parser.add_argument("--version", action=_VersionAction,
                        help="show the versions of layergraph, NumPy and SciPy and the BLAS kernels, and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _modules():
        module.register(sub)
    return parser


def _modules():
    from . import (bench_cmd, data_cmd, evaluate_cmd, export_cmd, gradcheck_cmd, lr_find_cmd, predict_cmd, show_cmd,
                   train_cmd)

    return [train_cmd, evaluate_cmd, predict_cmd, data_cmd, gradcheck_cmd, bench_cmd, lr_find_cmd, show_cmd, export_cmd]


def main(argv=None):
    """Entry point of the ``layergraph`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:  # output piped into a command that stopped reading (e.g. head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError) as err:
        print(f"layergraph {args.command}: error: {one_line(err)}", file=sys.stderr)
        return 1


def one_line(err):
    """The message of *err* on one line: multi-line messages (lists of problems) are joined with "; "."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = lines[0] if lines else type(err).__name__
    for line in lines[1:]:
        text += (" " if text.endswith(":") else "; ") + line
    return text

"""When the process is the ``layergraph`` command, a Ctrl-C while it is still importing prints one line.

Imported first by the package, before NumPy: an interrupt during the imports then ends with
``layergraph: interrupted`` instead of a traceback through the import machinery. Library use (``import
layergraph`` in your program, or under pytest) is left alone: the hook is only installed when the program is the
``layergraph`` console script or ``python -m layergraph``.
"""

import os
import sys


def _is_command():
    name = os.path.basename(sys.argv[0]) if sys.argv else ""
    if os.path.splitext(name)[0] in ("layergraph", "layergraph-script"):  # the console script
        return True
    argv = getattr(sys, "orig_argv", None) or []  # python -m layergraph
    return any(a == "-m" and b == "layergraph" for a, b in zip(argv, argv[1:]))


def _hook(previous):
    def excepthook(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            sys.stderr.write("layergraph: interrupted\n")
            return
        previous(kind, value, tb)

    return excepthook


def install():
    """Install the one-line Ctrl-C report if this process is the ``layergraph`` command."""
    if _is_command() and not getattr(sys.excepthook, "_layergraph", False):
        sys.excepthook = _hook(sys.excepthook)
        sys.excepthook._layergraph = True


install()

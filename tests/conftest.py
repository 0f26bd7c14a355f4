import os
from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

_MNIST_TEST = "t10k-images-idx3-ubyte.gz"


def shared_data_dir(environ=None):
    """The directory of the real data sets used by the tests: ``$LAYERGRAPH_DATA`` when set (and not empty),
    otherwise ``../shared/data`` next to the repository."""
    env = (os.environ if environ is None else environ).get("LAYERGRAPH_DATA", "")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def mnist_dir(environ=None):
    """Where the real MNIST IDX files are: ``<data>/mnist`` or ``<data>`` itself (the layout
    ``$LAYERGRAPH_DATA`` may have); ``<data>/mnist`` when neither holds them (tests then skip)."""
    base = shared_data_dir(environ)
    for candidate in (base / "mnist", base):
        if (candidate / _MNIST_TEST).is_file():
            return candidate
    return base / "mnist"


SHARED_DATA = shared_data_dir()
MNIST_DIR = mnist_dir()

"""``layergraph data fetch mnist`` against a local server: files failing their checksums are never kept."""

import gzip
import http.server
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from layergraph.data import MNIST_FILES, write_idx


@pytest.fixture
def mirror(tmp_path):
    """A loopback HTTP server whose files are generated IDX archives with the right names but wrong contents."""
    root = tmp_path / "mirror"
    root.mkdir()
    rng = np.random.default_rng(0)
    for name in MNIST_FILES:
        shape = (5, 28, 28) if "images" in name else (5,)
        write_idx(root / name, rng.integers(0, 10, shape).astype(np.uint8))
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_rejects_files_that_fail_their_checksums(mirror, tmp_path):
    dest = tmp_path / "dest"
    assert gzip.decompress((tmp_path / "mirror" / "t10k-labels-idx1-ubyte.gz").read_bytes())[:4] == b"\0\0\x08\x01"
    proc = subprocess.run([sys.executable, "-m", "layergraph", "data", "fetch", "mnist", "--mirror", mirror,
                           "--dest", str(dest), "--timeout", "5"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LAYERGRAPH_DATA": str(tmp_path / "none")})
    assert proc.returncode == 1
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("layergraph data: error:"), err
    assert mirror in err and ("md5" in err or "sha256" in err or "size" in err), err
    assert not dest.exists() or not any(p.name.endswith(".gz") for p in dest.iterdir())

"""fetch_mnist against a local HTTP server on 127.0.0.1; no test reaches the network."""

import gzip
import hashlib
import http.server
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from layergraph.data import (
    MNIST_FILES,
    MNIST_MIRRORS,
    ChecksumError,
    DownloadError,
    fetch_mnist,
    load_mnist,
    verify_file,
)

REAL_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch, tmp_path):
    """Fail any connection or name lookup that is not for 127.0.0.1."""
    real_connect = socket.socket.connect

    def connect(self, address):
        if isinstance(address, tuple) and address[0] != "127.0.0.1":
            raise AssertionError(f"test tried to reach the network: {address}")
        return real_connect(self, address)

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host not in ("127.0.0.1", b"127.0.0.1"):
            raise AssertionError(f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.delenv("LAYERGRAPH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


class Server:
    """Serves ``routes`` (URL path -> bytes) and records every requested path."""

    def __init__(self):
        self.routes: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.cut_short: set[str] = set()  # paths whose body ends before Content-Length
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in server.cut_short:
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


def ubyte_idx(arr):
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def fake_archives(seed=0):
    """Four small gzip IDX archives with MNIST names: name -> bytes."""
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, n in (("train", 20), ("t10k", 8)):
        out[f"{prefix}-images-idx3-ubyte.gz"] = gzip.compress(
            ubyte_idx(rng.integers(0, 256, size=(n, 28, 28))), mtime=0)
        out[f"{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(
            ubyte_idx(rng.integers(0, 10, size=n)), mtime=0)
    return out


def specs_for(archives, *, algorithms=("sha256", "md5")):
    spec = {}
    for name, blob in archives.items():
        entry = {"size": len(blob)}
        for algo in algorithms:
            entry[algo] = hashlib.new(algo, blob).hexdigest()
        spec[name] = entry
    return spec


def serve(server, prefix, archives):
    for name, blob in archives.items():
        server.routes[f"/{prefix}/{name}"] = blob
    return f"{server.url}/{prefix}/"


def test_downloads_verifies_and_falls_back_to_the_next_mirror(server, tmp_path):
    archives = fake_archives()
    good = serve(server, "good", archives)
    dead = f"{server.url}/dead/"  # every file 404
    lines = []
    dest = fetch_mnist(tmp_path / "dest", mirrors=[dead, good], files=specs_for(archives),
                       log=lines.append)
    assert dest == tmp_path / "dest"
    assert sorted(p.name for p in dest.iterdir()) == sorted(archives)  # no temp files left
    for name, blob in archives.items():
        assert (dest / name).read_bytes() == blob
        assert f"/dead/{name}" in server.requests and f"/good/{name}" in server.requests
    assert len(lines) == 4 and all("verified" in line for line in lines)
    (x_tr, t_tr), (x_te, _) = load_mnist(dest)
    assert x_tr.shape == (20, 784) and x_te.shape == (8, 784)


def test_default_destination_is_where_load_mnist_looks(server, tmp_path):
    archives = fake_archives(seed=1)
    dest = fetch_mnist(mirrors=serve(server, "m", archives), files=specs_for(archives))
    assert dest == tmp_path / "xdg-cache" / "layergraph" / "mnist"
    (x_tr, _), _ = load_mnist()
    assert x_tr.shape == (20, 784)


@pytest.mark.parametrize("algorithms", [("md5",), ("sha256",)])
def test_bad_checksum_is_rejected(server, tmp_path, algorithms):
    archives = fake_archives()
    specs = specs_for(archives, algorithms=algorithms)
    tampered = dict(archives)
    name = "t10k-images-idx3-ubyte.gz"
    blob = bytearray(archives[name])
    blob[len(blob) // 2] ^= 0xFF  # same size, different content
    tampered[name] = bytes(blob)
    bad = serve(server, "bad", tampered)
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError, match=f"{algorithms[0]}.*expected") as info:
        fetch_mnist(dest, mirrors=bad, files=specs)
    assert isinstance(info.value, ValueError)
    assert name in str(info.value)
    assert not (dest / name).exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]  # temp file removed

    # a good mirror after the bad one delivers a verified copy
    good = serve(server, "good", archives)
    fetch_mnist(dest, mirrors=[bad, good], files=specs)
    assert (dest / name).read_bytes() == archives[name]


def test_wrong_size_is_rejected(server, tmp_path):
    archives = fake_archives()
    specs = specs_for(archives)
    name = "train-labels-idx1-ubyte.gz"
    short = dict(archives, **{name: archives[name][:-3]})
    with pytest.raises(ChecksumError, match="size"):
        fetch_mnist(tmp_path, mirrors=serve(server, "s", short), files={name: specs[name]})


def test_existing_verified_files_are_kept_and_wrong_ones_replaced(server, tmp_path):
    archives = fake_archives()
    specs = specs_for(archives)
    mirror = serve(server, "m", archives)
    fetch_mnist(tmp_path, mirrors=mirror, files=specs)
    server.requests.clear()
    fetch_mnist(tmp_path, mirrors=mirror, files=specs)
    assert server.requests == []  # nothing downloaded again
    victim = tmp_path / "train-images-idx3-ubyte.gz"
    victim.write_bytes(b"garbage")
    fetch_mnist(tmp_path, mirrors=mirror, files=specs)
    assert server.requests == ["/m/train-images-idx3-ubyte.gz"]
    assert victim.read_bytes() == archives["train-images-idx3-ubyte.gz"]
    server.requests.clear()
    fetch_mnist(tmp_path, mirrors=mirror, files=specs, overwrite=True)
    assert len(server.requests) == 4


def test_connection_dropped_mid_file_tries_the_next_mirror(server, tmp_path):
    archives = fake_archives()
    name = "train-images-idx3-ubyte.gz"
    spec = {name: specs_for(archives)[name]}
    flaky = serve(server, "flaky", archives)
    server.cut_short.add(f"/flaky/{name}")
    with pytest.raises(DownloadError, match="flaky.*transfer ended after") as info:
        fetch_mnist(tmp_path, mirrors=flaky, files=spec)
    assert not isinstance(info.value, ChecksumError)  # an interrupted transfer is not bad data
    assert not (tmp_path / name).exists()
    fetch_mnist(tmp_path, mirrors=[flaky, serve(server, "good", archives)], files=spec)
    assert (tmp_path / name).read_bytes() == archives[name]


def test_unreachable_mirror_leaves_existing_file_untouched(tmp_path):
    with socket.socket() as sock:  # find a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    archives = fake_archives()
    name = "t10k-labels-idx1-ubyte.gz"
    (tmp_path / name).write_bytes(b"old content")
    with pytest.raises(DownloadError, match=f"127.0.0.1:{port}/{name}") as info:
        fetch_mnist(tmp_path, mirrors=f"http://127.0.0.1:{port}/",
                    files={name: specs_for({name: archives[name]})[name]}, timeout=5)
    assert not isinstance(info.value, ChecksumError)
    assert (tmp_path / name).read_bytes() == b"old content"


def test_progress_callback_reports_bytes(server, tmp_path):
    archives = fake_archives()
    name = "train-images-idx3-ubyte.gz"
    calls = []
    fetch_mnist(tmp_path, mirrors=serve(server, "p", archives),
                files={name: specs_for(archives)[name]},
                progress=lambda n, done, total: calls.append((n, done, total)))
    assert calls and calls[-1] == (name, len(archives[name]), len(archives[name]))
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)


@pytest.mark.parametrize(
    "files, exc, pattern",
    [
        ({"a.gz": {"size": 3}}, ValueError, "checksum"),
        ({"../a.gz": {"md5": "0" * 32}}, ValueError, "plain names"),
        ({"a.gz": {"md5": "0" * 32, "sha1": "x"}}, ValueError, "unknown keys"),
        ({"a.gz": "0" * 32}, TypeError, "mapping"),
    ],
)
def test_bad_file_specs(tmp_path, files, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fetch_mnist(tmp_path, mirrors="http://127.0.0.1:9/", files=files)


def test_bad_mirrors_and_timeout(tmp_path):
    with pytest.raises(ValueError, match="mirrors"):
        fetch_mnist(tmp_path, mirrors=[])
    with pytest.raises(ValueError, match="timeout"):
        fetch_mnist(tmp_path, mirrors="http://127.0.0.1:9/", timeout=0)


def test_default_table_is_consistent():
    assert set(MNIST_FILES) == {
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    }
    for spec in MNIST_FILES.values():
        assert len(spec["md5"]) == 32 and len(spec["sha256"]) == 64 and spec["size"] > 0
    assert MNIST_MIRRORS and all(m.startswith(("https://", "http://")) for m in MNIST_MIRRORS)


@pytest.mark.skipif(not (REAL_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason=f"real MNIST test files not present in {REAL_MNIST}")
def test_default_checksums_match_the_real_test_files():
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert verify_file(REAL_MNIST / name, MNIST_FILES[name]) is None
    assert verify_file(REAL_MNIST / "t10k-labels-idx1-ubyte.gz",
                       MNIST_FILES["t10k-images-idx3-ubyte.gz"]) is not None

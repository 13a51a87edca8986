"""``catmodel datasets get`` without ``--from``: pooch fetches the original files from
``$CATMODEL_DATASETS_URL/<owner>/<repo>/<commit>/<path>`` and checks their SHA-256.

A server on 127.0.0.1 stands in for GitHub's raw file server: it serves the shared copies
gunzipped (the original bytes), so nothing is downloaded from outside.
"""

from __future__ import annotations

import gzip
import http.server
import threading
from pathlib import Path

import pandas as pd
import pytest

from catmodel.cli.main import main
from catmodel.data.datasets import DATASETS

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"no data sets at {SHARED}")


def _handler(corrupt: bool):
    prefixes = {f"/{d.repository}/{d.commit}/": d.name for d in DATASETS.values()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # the http.server API names it
            for prefix, name in prefixes.items():
                if self.path.startswith(prefix):
                    local = SHARED / name / self.path[len(prefix) :]
                    gz = local.with_name(local.name + ".gz")
                    if gz.is_file():
                        body = gzip.decompress(gz.read_bytes())
                    elif local.is_file():
                        body = local.read_bytes()
                    else:
                        break
                    if corrupt:
                        body = body[:-1] + bytes([body[-1] ^ 1])
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
            self.send_error(404)

        def log_message(self, *args):  # keep the test output quiet
            pass

    return Handler


@pytest.fixture
def server(monkeypatch, tmp_path):
    """Start a local server; returns a function that starts one (corrupt=True: one flipped
    bit per file) and points catmodel at it, with an empty cache in tmp_path."""
    started = []

    def start(corrupt: bool = False) -> str:
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(corrupt))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append(httpd)
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        monkeypatch.setenv("CATMODEL_DATASETS_URL", url)
        monkeypatch.setenv("CATMODEL_DATA_DIR", str(tmp_path / "cache"))
        return url

    yield start
    for httpd in started:
        httpd.shutdown()


def test_download_gives_the_same_table_as_the_local_copy(server, tmp_path, capsys):
    server()
    argv = ["datasets", "get", "hu_nosofsky_dots", "--experiment", "lmc_2022_exp2"]
    assert main([*argv, "--out", str(tmp_path / "web.csv.gz")]) == 0
    cached = list((tmp_path / "cache" / "datasets" / "hu_nosofsky_dots").rglob("*.txt"))
    assert len(cached) == 89  # every participant file (only the files the converter reads)
    assert main([*argv, "--from", str(SHARED), "--out", str(tmp_path / "local.csv.gz")]) == 0
    web = pd.read_csv(tmp_path / "web.csv.gz")
    local = pd.read_csv(tmp_path / "local.csv.gz")
    pd.testing.assert_frame_equal(web, local)


def test_cached_files_are_not_fetched_again(server, tmp_path, monkeypatch):
    server()
    argv = ["datasets", "get", "sixproblems", "--experiment", "nosof94"]
    assert main([*argv, "--out", str(tmp_path / "a.csv.gz")]) == 0
    monkeypatch.setenv("CATMODEL_DATASETS_URL", "http://127.0.0.1:9")  # nothing listens
    assert main([*argv, "--out", str(tmp_path / "b.csv.gz")]) == 0


def test_a_corrupt_download_stops_with_one_line(server, tmp_path, capsys):
    server(corrupt=True)
    argv = ["datasets", "get", "sixproblems", "--experiment", "nosof94"]
    assert main([*argv, "--out", str(tmp_path / "a.csv.gz")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "checksum" in err and "nosof94tld.rda" in err
    assert not (tmp_path / "a.csv.gz").exists()


def test_an_unreachable_server_stops_with_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CATMODEL_DATASETS_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CATMODEL_DATA_DIR", str(tmp_path / "cache"))
    argv = ["datasets", "get", "sixproblems", "--experiment", "rehder05"]
    assert main([*argv, "--out", str(tmp_path / "a.csv.gz")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "download failed" in err

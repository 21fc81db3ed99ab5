# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The Prometheus path: benchmemd's GET /metrics scraped by a real Prometheus (Debian's
`prometheus` package, packaging/deps.txt) and read back through its HTTP API; the same series
from `benchmemctl export --format openmetrics`, checked by `promtool check metrics` and by
Prometheus's own OpenMetrics parser (a second scrape target serves the exported text); and
the responder's limits (404/405/431, the cap on scrape connections, a loop that never waits
for a scraper)."""
import http.server
import json
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import BUILD, ROOT, spawn_daemon, stop_daemon

PROMETHEUS, PROMTOOL = "/usr/bin/prometheus", "/usr/bin/promtool"
RUN, CTL, REGION_C = str(BUILD / "benchmem-run"), str(BUILD / "benchmemctl"), \
    str(BUILD / "workloads" / "region_c")
OM = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send_raw(port, request, timeout=10):
    """Sends raw bytes to 127.0.0.1:@port; returns everything the server sent until it closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def scrape(port):
    head, _, body = send_raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").partition(b"\r\n\r\n")
    return head.decode(), body.decode()


def samples(text):
    """{'name{labels}': value} of an exposition's sample lines."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = int(value)
    return out


@pytest.fixture
def metrics_daemon(tmp_path):
    port = free_port()
    d = spawn_daemon(tmp_path, tmp_path / "benchmemd.sock", f"metrics_listen=127.0.0.1:{port}")
    d.metrics_port = port
    yield d
    stop_daemon(d)


def run_region_c(d):
    """region_c's scripted regions under benchmem-run through daemon @d, from the repository
    (so the context's commit is this checkout's HEAD); returns its per-region report lines."""
    p = subprocess.run([RUN, "--quiet", "--", REGION_C], capture_output=True, text=True,
                       env=d.env(), cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr + d.log_tail()
    rows = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        rows.setdefault(r["region"], []).append(r)
    return rows


def head_commit():
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()


def test_metrics_serves_the_finished_regions_and_health(metrics_daemon):
    head, body = scrape(metrics_daemon.metrics_port)
    assert head.startswith("HTTP/1.1 200 OK\r\n") and f"Content-Type: {OM}" in head, head
    assert "Connection: close" in head
    assert body.endswith("# EOF\n")
    assert "benchmem_region_peak_bytes" not in body  # nothing finished yet
    assert samples(body)["benchmemd_finished_sessions_total"] == 0
    rows = run_region_c(metrics_daemon)
    _, body = scrape(metrics_daemon.metrics_port)
    got = samples(body)
    labels = (f'params="",commit="{head_commit()}",host="{socket.gethostname()}"')
    assert got[f'benchmem_region_peak_bytes{{benchmark="c/calloc",{labels}}}'] == 1_000_000
    assert got[f'benchmem_region_peak_bytes{{benchmark="c/basic",{labels}}}'] == 1048576 + 4096
    # three repeats of 64, 128 and 192 KiB: the headline is the min-peak pass
    assert [r["peak"] for r in rows["c/repeat"]] == [65536, 131072, 196608]
    assert got[f'benchmem_region_peak_bytes{{benchmark="c/repeat",{labels}}}'] == 65536
    assert got[f'benchmem_region_allocated_bytes{{benchmark="c/outer",{labels}}}'] == 600_000
    assert got[f'benchmem_region_allocations{{benchmark="c/outer",{labels}}}'] == 3
    assert got[f'benchmem_region_rss_bytes{{benchmark="c/calloc",{labels}}}'] >= 1_000_000
    assert got["benchmemd_finished_sessions_total"] == 1
    assert got["benchmemd_sessions"] == 0
    assert got["benchmemd_lost_events_total"] == 0
    assert got["benchmemd_metrics_regions"] == 7  # the seven region names of region_c
    assert 1 << 20 < got["benchmemd_resident_memory_bytes"] < 1 << 30
    # OpenMetrics metadata: a TYPE and HELP per family, UNIT where the name carries one
    assert "# TYPE benchmem_region_peak_bytes gauge\n# UNIT benchmem_region_peak_bytes bytes\n" \
        in body
    assert "# TYPE benchmemd_lost_events counter\n" in body


def test_metrics_responder_refuses_what_it_does_not_serve(metrics_daemon):
    port = metrics_daemon.metrics_port
    assert send_raw(port, b"GET / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert send_raw(port, b"GET /metricsx HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404 ")
    r = send_raw(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n") and b"Allow: GET\r\n" in r
    # a request past 4096 bytes without its end: 431, connection closed
    r = send_raw(port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 5000)
    assert r.startswith(b"HTTP/1.1 431 "), r[:80]
    assert send_raw(port, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 200 OK")


def test_metrics_caps_scrapes_and_never_blocks_the_loop(metrics_daemon):
    port = metrics_daemon.metrics_port
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]  # the cap
    try:
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert extra.recv(100) == b""  # closed at accept: the cap is reached
        extra.close()
        # eight silent scrapers hold their slots, and the socket protocol still answers
        t0 = time.monotonic()
        p = subprocess.run([CTL, "raw", '{"op":"hello"}'], capture_output=True, text=True,
                           env=metrics_daemon.env(), timeout=10)
        assert p.returncode == 0 and '"ok":true' in p.stdout, p.stderr
        assert time.monotonic() - t0 < 2
    finally:
        for s in idle:
            s.close()
    time.sleep(0.3)
    got = samples(scrape(port)[1])
    assert got["benchmemd_metrics_refused_scrapes_total"] == 1


def test_metrics_closes_a_silent_scraper_after_its_timeout(metrics_daemon):
    s = socket.create_connection(("127.0.0.1", metrics_daemon.metrics_port), timeout=10)
    t0 = time.monotonic()
    assert s.recv(100) == b""  # closed by the daemon, not by us
    assert 4.5 <= time.monotonic() - t0 <= 8
    s.close()


class _Export(http.server.BaseHTTPRequestHandler):
    """Serves the text of `benchmemctl export` as Prometheus's second scrape target."""
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", OM)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def prom_query(port, query):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.load(r)
    assert doc["status"] == "success", doc
    return doc["data"]["result"]


def wait_query(port, query, proc, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            res = prom_query(port, query)
            if res:
                return res
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    pytest.fail(f"Prometheus never returned {query}:\n{log.read_text()[-3000:]}")


def test_prometheus_scrapes_the_daemon_and_the_export(metrics_daemon, tmp_path):
    assert Path(PROMETHEUS).exists(), "prometheus is in packaging/deps.txt (make deps)"
    run_region_c(metrics_daemon)
    results = sorted((tmp_path / "results").glob("*.json"))
    assert len(results) == 1, results
    exported = subprocess.run([CTL, "export", "--format", "openmetrics", str(results[0])],
                              capture_output=True, check=True, timeout=30).stdout
    _Export.body = exported
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Export)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    web = free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: benchmemd\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{metrics_daemon.metrics_port}']}}]\n"
        f"  - job_name: export\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{srv.server_address[1]}']}}]\n")
    log = tmp_path / "prometheus.log"
    with open(log, "w") as out:
        prom = subprocess.Popen([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                 f"--web.listen-address=127.0.0.1:{web}"],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        for job in ("benchmemd", "export"):
            res = wait_query(web, f'benchmem_region_peak_bytes{{benchmark="c/calloc",job="{job}"}}',
                             prom, log)
            assert len(res) == 1, res
            m = res[0]["metric"]
            assert res[0]["value"][1] == "1000000", res  # the bytes region_c's calloc holds
            # an empty label is no label to Prometheus: params="" is absent
            assert "params" not in m, m
            assert (m["commit"], m["host"]) == (head_commit(), socket.gethostname()), m
            res = prom_query(web, f'benchmem_region_peak_bytes{{benchmark="c/basic",job="{job}"}}')
            assert res[0]["value"][1] == str(1048576 + 4096), res
            res = prom_query(web, f'benchmem_region_allocations{{benchmark="c/outer",job="{job}"}}')
            assert res[0]["value"][1] == "3", res
            assert prom_query(web, f'up{{job="{job}"}}')[0]["value"][1] == "1"
        res = wait_query(web, "benchmemd_finished_sessions_total", prom, log)
        assert res[0]["value"][1] == "1", res
        # both targets parsed cleanly as OpenMetrics
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/api/v1/targets", timeout=10) as r:
            targets = json.load(r)["data"]["activeTargets"]
        assert sorted(t["labels"]["job"] for t in targets) == ["benchmemd", "export"]
        assert all(t["health"] == "up" and t["lastError"] == "" for t in targets), targets
    finally:
        prom.terminate()
        prom.wait(timeout=30)
        srv.shutdown()


# ---- export without a daemon --------------------------------------------------------------

def result_doc(entries, commit="abc123", node="box-1"):
    return {"machine_info": {"node": node}, "commit_info": {"id": commit},
            "benchmarks": [{"name": name, "fullname": f"t.py::{name}", "param": param,
                            "params": None, "group": None, "stats": None,
                            "extra_info": {"benchmem": {"peak_bytes": peaks,
                                                        "total_bytes": peaks,
                                                        "allocations": [1] * len(peaks)}}}
                           for name, param, peaks in entries]}


def export(tmp_path, *docs, args=()):
    files = []
    for i, doc in enumerate(docs):
        f = tmp_path / f"{i:04d}_run.json"
        f.write_text(json.dumps(doc))
        files.append(str(f))
    return subprocess.run([CTL, "export", "--format", "openmetrics", *args, *files],
                          capture_output=True, text=True, timeout=30)


def test_export_is_valid_for_promtool_and_escapes_labels(tmp_path):
    doc = result_doc([("test_x[a\"b\\c]", 'a"b\\c', [300, 200, 250]),
                      ("test_y", None, [4096])])
    p = export(tmp_path, doc)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[-1] == "# EOF"
    # the pytest id goes to params, the benchmark keeps the function name; " and \ escaped
    assert 'benchmem_region_peak_bytes{benchmark="test_x",params="a\\"b\\\\c",' \
           'commit="abc123",host="box-1"} 200' in lines
    assert 'benchmem_region_peak_bytes{benchmark="test_y",params="",commit="abc123",' \
           'host="box-1"} 4096' in lines
    assert not any(line.startswith("benchmem_region_rss_bytes") for line in lines)  # not measured
    chk = subprocess.run([PROMTOOL, "check", "metrics"], input=p.stdout, capture_output=True,
                         text=True, timeout=30)
    assert chk.returncode == 0, chk.stdout + chk.stderr


def test_export_keeps_the_latest_value_per_series_and_caps_them(tmp_path):
    old = result_doc([("test_a", None, [1000]), ("test_b", None, [2000])])
    new = result_doc([("test_a", None, [1500]), ("test_c", None, [3000])])
    p = export(tmp_path, old, new)
    assert p.returncode == 0, p.stderr
    peaks = {k: v for k, v in samples(p.stdout).items() if k.startswith("benchmem_region_peak")}
    tail = ',params="",commit="abc123",host="box-1"}'
    assert peaks == {f'benchmem_region_peak_bytes{{benchmark="test_b"{tail}': 2000,
                     f'benchmem_region_peak_bytes{{benchmark="test_a"{tail}': 1500,
                     f'benchmem_region_peak_bytes{{benchmark="test_c"{tail}': 3000}
    p = export(tmp_path, old, new, args=("--max-series", "2", "--host", "unused"))
    assert p.returncode == 0
    assert p.stderr.strip() == ("benchmemctl export: warning: 1 regions beyond --max-series 2 "
                                "left out (the oldest)")
    assert sorted(k.split('"')[1] for k in samples(p.stdout)
                  if k.startswith("benchmem_region_peak")) == ["test_a", "test_c"]


def test_export_writes_the_file_atomically_and_refuses_bad_usage(tmp_path):
    doc = result_doc([("test_a", None, [1000])], node=None)
    doc["machine_info"] = {}
    out = tmp_path / "benchmem.prom"
    p = export(tmp_path, doc, args=("-o", str(out), "--host", "ci-7"))
    assert p.returncode == 0 and p.stdout == "", p.stderr
    assert 'host="ci-7"} 1000' in out.read_text()
    bad = subprocess.run([CTL, "export", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr == ("benchmemctl export: error: --format openmetrics is required "
                          "(see --help)\n")
    bad = subprocess.run([CTL, "export", "--format", "json", "x.json"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "the one format is openmetrics" in bad.stderr


def test_metrics_keeps_the_newest_regions_up_to_the_cap(tmp_path):
    port = free_port()
    d = spawn_daemon(tmp_path, tmp_path / "benchmemd.sock", f"metrics_listen=127.0.0.1:{port}",
                     "metrics_max_series=3")
    try:
        run_region_c(d)
        got = samples(scrape(port)[1])
    finally:
        stop_daemon(d)
    peaks = sorted(k.split('"')[1] for k in got if k.startswith("benchmem_region_peak_bytes"))
    # region_c's seven regions in result order: basic repeat inner outer calloc prefree child
    assert peaks == ["c/calloc", "c/child", "c/prefree"]
    assert got["benchmemd_metrics_regions"] == 3
    assert got["benchmemd_metrics_dropped_regions_total"] == 4

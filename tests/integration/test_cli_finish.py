# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""CLIs that feel finished: one --version, one-line errors for unknown options, described
options, man pages that name every option, bash completion, `benchmemctl sessions` (with its
trust rule), result files named after the job, a readable `status`, `raw`, `compare --stat` as
a list and numeric pivots."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BUILD, ROOT, spawn_daemon, stop_daemon, validate_reply, validate_request
from test_credentials import as_user, cd, users  # noqa: F401 (fixtures)

RUN, CTL, DAEMON = str(BUILD / "benchmem-run"), str(BUILD / "benchmemctl"), \
    str(BUILD / "benchmemd")
REGION_C = str(BUILD / "workloads" / "region_c")
MAN = ROOT / "docs" / "man"
COMPLETION = ROOT / "packaging" / "bash-completion" / "benchmemctl"


def call(*args, env=None, **kw):
    env = dict(os.environ if env is None else env)
    env.setdefault("BENCHMEM_SOCKET", "/nonexistent/benchmem-test.sock")  # never the system's
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, env=env, **kw)


def ctl_commands():
    out = call(CTL, "--help").stdout
    block = out.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


def long_options(text):
    return sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text)))


# ---- version and option errors --------------------------------------------------------------

def test_one_version_string_everywhere():
    changelog = (ROOT / "packaging" / "debian" / "changelog").read_text().split("\n", 1)[0]
    version = re.match(r"benchmemd \(([^)]+)\)", changelog).group(1)
    header = (ROOT / "lib" / "version.h").read_text()
    assert f'#define BM_VERSION_NUMBER "{version}"' in header
    for prog in (DAEMON, RUN, CTL):
        for flag in ("--version", "-V"):
            p = call(prog, flag)
            assert (p.returncode, p.stdout, p.stderr) == \
                (0, f"{Path(prog).name} {version}\n", ""), (prog, flag)
    assert not (ROOT / "daemon" / "collector.h").read_text().count("#define BM_VERSION")


@pytest.mark.parametrize("argv, prog, opt", [
    ([DAEMON, "--x"], "benchmemd", "--x"),
    ([DAEMON, "-q"], "benchmemd", "-q"),
    ([RUN, "--x", "--", "true"], "benchmem-run", "--x"),
    ([RUN, "--bogus=1", "--", "true"], "benchmem-run", "--bogus"),
    ([CTL, "--x"], "benchmemctl", "--x"),
    ([CTL, "status", "--x"], "benchmemctl status", "--x"),
    ([CTL, "sessions", "--x"], "benchmemctl sessions", "--x"),
    ([CTL, "start", "--x", "n"], "benchmemctl start", "--x"),
    ([CTL, "compare", "--x", "a.json"], "benchmemctl compare", "--x"),
    ([CTL, "report", "--x", "a.json"], "benchmemctl report", "--x"),
    ([CTL, "export", "--x"], "benchmemctl export", "--x"),
    ([CTL, "inspect", "--x"], "benchmemctl inspect", "--x"),
    ([CTL, "top", "--x"], "benchmemctl top", "--x"),
])
def test_unknown_option_is_one_line_and_exit_2(argv, prog, opt):
    p = call(*argv)
    assert p.returncode == 2, p.stderr
    assert p.stderr == f"{prog}: error: unknown option '{opt}' (see --help)\n"
    assert p.stdout == ""


@pytest.mark.parametrize("argv, prog, opt", [
    ([DAEMON, "--socket"], "benchmemd", "--socket"),
    ([RUN, "--json"], "benchmem-run", "--json"),
    ([CTL, "start", "n", "--pid"], "benchmemctl start", "--pid"),
    ([CTL, "compare", "a.json", "--stat"], "benchmemctl compare", "--stat"),
    ([CTL, "top", "--interval"], "benchmemctl top", "--interval"),
])
def test_missing_option_value_is_one_line(argv, prog, opt):
    p = call(*argv)
    assert (p.returncode, p.stderr) == (2, f"{prog}: error: option '{opt}' needs a value "
                                           "(see --help)\n")


def test_tests_never_reach_the_system_socket(tmp_path):
    """tests/conftest.py points every client at no collector unless a test names one."""
    assert os.environ["BENCHMEM_SOCKET"] == "/nonexistent/benchmem-tests/no-collector.sock"
    p = subprocess.run([CTL, "status"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 3
    assert p.stderr.startswith("benchmemctl status: error: no collector at "
                               "/nonexistent/benchmem-tests/no-collector.sock")


def test_benchmemd_help_describes_every_option():
    p = call(DAEMON, "--help")
    assert p.returncode == 0 and p.stderr == ""
    lines = p.stdout.split("options:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(lines) == 13
    for line in lines:
        opt, _, desc = line.strip().partition("  ")
        assert opt.startswith("-") and len(desc.strip()) >= 20, line
    assert "--set KEY=VALUE" in p.stdout and "override one key" in p.stdout


# ---- man pages and completion ---------------------------------------------------------------

@pytest.mark.parametrize("page, helps", [
    ("benchmemd.8", [[DAEMON, "--help"]]),
    ("benchmem-run.1", [[RUN, "--help"]]),
    ("benchmemctl.1", [[CTL, "--help"]] + [[CTL, c, "--help"] for c in (
        "start", "stop", "attach", "detach", "status", "sessions", "results", "profile",
        "inspect", "compare", "gate", "report", "export", "raw", "top")]),
])
def test_man_page_renders_and_names_every_option(page, helps):
    r = subprocess.run(["man", "--warnings", "-l", str(MAN / page)], capture_output=True,
                       text=True, env=dict(os.environ, MANWIDTH="100", LC_ALL="C.UTF-8"),
                       timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    text = r.stdout.replace("\u2010", "-")  # groff's hyphen
    assert page.split(".")[0].upper() in text.splitlines()[0]
    for argv in helps:
        h = call(*argv)
        assert h.returncode == 0, argv
        missing = [o for o in long_options(h.stdout) if o not in text]
        assert not missing, f"{page} lacks {missing} of {' '.join(argv)}"
    if page == "benchmemctl.1":
        for c in ctl_commands():
            assert re.search(rf"^ {{7}}{c}\b", text, re.M), c
    if page == "benchmemd.8":  # every key of the configuration table
        keys = subprocess.run([str(BUILD / "tests" / "unit" / "test_config"), "--keys"],
                              capture_output=True, text=True, check=True).stdout
        for key in (line.split("\t")[0] for line in keys.splitlines()):
            assert key in text.replace("\u2010", "-"), key


def complete(*words):
    """COMPREPLY of the completion for the command line @words (the last one being typed)."""
    script = (f"source {COMPLETION}\nPATH={BUILD}:$PATH\n"
              f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
              "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
              "fn=$(complete -p \"${COMP_WORDS[0]}\" | sed 's/.*-F \\([^ ]*\\) .*/\\1/')\n"
              "$fn\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return [w for w in p.stdout.splitlines() if w]


def test_bash_completion_offers_commands_and_options():
    assert complete("benchmemctl", "") == ctl_commands()
    assert "sessions" in ctl_commands() and "export" in ctl_commands()
    assert complete("benchmemctl", "se") == ["sessions"]
    assert complete("benchmemctl", "--v") == ["--version"]
    assert complete("benchmemctl", "compare", "--st") == ["--stat"]
    assert complete("benchmemctl", "compare", "--stat", "m") == ["min", "max", "mean", "median"]
    assert complete("benchmemctl", "export", "--") == ["--format", "--host", "--max-series",
                                                       "--output"]
    assert complete("benchmemctl", "export", "--format", "") == ["openmetrics"]
    assert complete("benchmemctl", "top", "--sort", "") == ["total", "own", "count"]
    assert complete("benchmemctl", "compare", "--sort", "") == ["name", "value", "change"]
    assert complete("benchmem-run", "--prof") == ["--profile", "--profile-dir"]
    assert complete("benchmem-run", "--pro") == ["--probe", "--profile", "--profile-dir"]
    assert complete("benchmem-run", "--profile", "") == ["all", "regressed", "none"]
    assert complete("benchmem-run", "--probe", "") == ["auto", "hook", "uprobes"]
    assert complete("benchmemd", "--s") == ["--set", "--socket", "--stacks", "--state-dir",
                                            "--system-wide"]
    assert "bash" in complete("benchmem-run", "-q", "--", "bas")  # the command's name


def test_make_install_ships_man_pages_and_completions(tmp_path):
    p = subprocess.run(["make", "--no-print-directory", "install", f"DESTDIR={tmp_path}",
                        "PREFIX=/usr"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    share = tmp_path / "usr" / "share"
    for page in ("man1/benchmem-run.1.gz", "man1/benchmemctl.1.gz", "man8/benchmemd.8.gz"):
        r = subprocess.run(["man", "-l", str(share / "man" / page)], capture_output=True,
                           text=True, env=dict(os.environ, MANWIDTH="80"), timeout=60)
        assert r.returncode == 0 and "SYNOPSIS" in r.stdout, page
    for c in ("benchmemctl", "benchmem-run", "benchmemd"):
        assert (share / "bash-completion" / "completions" / c).read_text() == \
            COMPLETION.read_text()


# ---- sessions, job names, status, raw --------------------------------------------------------

@pytest.fixture
def ctl_daemon(tmp_path):
    d = spawn_daemon(tmp_path, tmp_path / "benchmemd.sock")
    d.tmp = tmp_path
    yield d
    stop_daemon(d)


def test_sessions_lists_finished_jobs_and_their_result_files(ctl_daemon):
    d = ctl_daemon
    assert call(CTL, "sessions", env=d.env()).stdout == \
        "no finished sessions (the daemon lists those since it started)\n"
    for args in (["--name", "myjob"], []):
        p = call(RUN, "--quiet", *args, "--", REGION_C, "alloc", "123456", env=d.env())
        assert p.returncode == 0, p.stderr + d.log_tail()
    p = call(RUN, "--quiet", "--", "/bin/sh", "-c", "kill -9 $$", env=d.env())
    assert p.returncode == 137
    p = call(CTL, "sessions", "--json", env=d.env())
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    res = d.tmp / "results"
    assert [(s["session"], s["name"], s["end"], s["regions"], s["uid"], s["result"])
            for s in got] == [(1, "myjob", "exit 0", 1, 0, str(res / "1-myjob.json")),
                              (2, "region_c", "exit 0", 1, 0, str(res / "2-region_c.json")),
                              (3, "sh", "signal 9", 1, 0, str(res / "3-sh.json"))]
    assert sorted(f.name for f in res.iterdir()) == ["1-myjob.json", "2-region_c.json",
                                                     "3-sh.json"]
    doc = json.loads((res / "1-myjob.json").read_text())
    assert doc["benchmarks"][0]["name"] == "myjob"
    assert doc["benchmarks"][0]["extra_info"]["benchmem"]["peak_bytes"] == [123456]
    assert got[0]["command"].endswith("region_c") and got[2]["command"] == "/usr/bin/dash"
    assert all(s["started"] <= s["ended"] and s["seconds"] >= 0 for s in got)
    # the wire form agrees with the schemas
    validate_request({"op": "sessions"})
    raw = call(CTL, "raw", '{"op":"sessions"}', '{"op":"status"}', env=d.env())
    replies = [json.loads(x) for x in raw.stdout.splitlines()]
    validate_reply(replies[0], "sessions")
    validate_reply(replies[1], "status")
    assert replies[0]["finished"] == got
    table = call(CTL, "sessions", env=d.env()).stdout.splitlines()
    assert table[0].split()[:4] == ["session", "owner", "started", "(UTC)"]
    assert table[1].split()[0:2] == ["1", "root"] and table[1].endswith(str(res / "1-myjob.json"))
    assert "signal 9" in table[3]


def test_an_attached_session_is_named_after_its_command_line(ctl_daemon):
    d = ctl_daemon
    proc = subprocess.Popen(["/usr/bin/python3", "-c", "import time; time.sleep(30)",
                             "\x1b[2Jevil"])
    try:
        time_left = 50
        while time_left and "python3" not in Path(f"/proc/{proc.pid}/cmdline").read_text():
            subprocess.run(["sleep", "0.1"])
            time_left -= 1
        p = call(CTL, "attach", str(proc.pid), env=d.env())
        assert p.returncode == 0, p.stderr + d.log_tail()
        p = call(CTL, "detach", "--pid", str(proc.pid), env=d.env())
        assert p.returncode == 0, p.stderr
    finally:
        proc.kill()
        proc.wait()
    got = json.loads(call(CTL, "sessions", "--json", env=d.env()).stdout)
    assert [(s["name"], s["end"], s["result"]) for s in got] == [("python3", "detached", None)]
    # the process's own bytes, with the escape made harmless for a terminal
    assert got[0]["command"] == "/usr/bin/python3 -c import time; time.sleep(30) ?[2Jevil"
    assert "\x1b" not in call(CTL, "sessions", env=d.env()).stdout


def test_status_shows_the_command_region_apart(ctl_daemon):
    d = ctl_daemon
    script = d.tmp / "open.sh"
    script.write_text(f"{CTL} start user/one\n{CTL} start user/two\nsleep 30\n")
    proc = subprocess.Popen([RUN, "--quiet", "--name", "thejob", "--", "/bin/sh", str(script)],
                            env=d.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            p = call(CTL, "status", env=d.env())
            if "user/two" in p.stdout:
                break
            subprocess.run(["sleep", "0.1"])
        lines = p.stdout.splitlines()
        assert lines[0].split() == ["session", "pid", "owner", "processes", "closed",
                                    "command", "region", "open", "regions"]
        row = lines[1].split(None, 6)
        # the session's root: the shell benchmem-run launched for the script
        assert row[0] == "1" and row[2] == "root", lines
        assert str(script) in Path(f"/proc/{row[1]}/cmdline").read_text(), lines
        assert row[5:] == ["thejob", "user/one, user/two"], lines
        assert "[" not in p.stdout and '"' not in p.stdout
        # benchmem-run's connection and ours
        assert lines[2] == "1 session(s), 2 client(s), 0 lost event(s)", lines
        st = json.loads(call(CTL, "status", "--json", env=d.env()).stdout)
        validate_reply(dict(st, ok=True), "status")
        assert st["sessions"][0]["command_region"] == "thejob"
        assert st["sessions"][0]["open_regions"] == ["thejob", "user/one", "user/two"]
    finally:
        proc.kill()
        proc.wait()


def test_raw_sends_requests_and_prints_replies(ctl_daemon):
    p = call(CTL, "raw", '{"op":"hello"}', '{"op":"nosuch"}', env=ctl_daemon.env())
    assert p.returncode == 1, p.stderr
    hello, bad = [json.loads(x) for x in p.stdout.splitlines()]
    assert hello == {"ok": True, "protocol": 1, "server": "benchmemd 0.1.0", "mode": "daemon"}
    assert bad["ok"] is False and bad["error"]["code"] == "unknown_op"
    assert "sessions" in bad["error"]["message"]
    p = call(CTL, "raw", "{", env=ctl_daemon.env())
    assert p.returncode == 2 and p.stderr.startswith("benchmemctl raw: error: '{': not a JSON")


@pytest.mark.root
def test_a_user_sees_only_their_own_finished_sessions(users, cd):  # noqa: F811
    me, other = users
    p = as_user(me, [RUN, "--socket", str(cd.sock), "--quiet", "--name", "mine", "--",
                     REGION_C, "alloc", "4096"], cd)
    assert p.returncode == 0, p.stderr + cd.log_tail()
    p = call(RUN, "--socket", str(cd.sock), "--quiet", "--name", "roots", "--", REGION_C,
             "alloc", "4096", cwd="/")
    assert p.returncode == 0, p.stderr

    def names(user):
        r = as_user(user, [CTL, "sessions", "--json"], cd) if user else \
            call(CTL, "sessions", "--json", env=dict(os.environ, BENCHMEM_SOCKET=str(cd.sock)))
        assert r.returncode == 0, r.stderr
        return [(s["name"], s["uid"]) for s in json.loads(r.stdout)]

    assert names(me) == [("mine", me.pw_uid)]
    assert names(other) == []
    assert ("mine", me.pw_uid) in names(None) and ("roots", 0) in names(None)


# ---- compare -----------------------------------------------------------------------------------

def pivot_run(tmp_path):
    def bench(n, peak):
        return {"name": f"test_x[{n}]", "fullname": f"t.py::test_x[{n}]", "param": str(n),
                "params": {"n": n}, "group": None,
                "stats": {"min": 0.001, "max": 0.003, "mean": 0.002, "median": 0.0015,
                          "stddev": 0.0001},
                "extra_info": {"benchmem": {"peak_bytes": [peak, peak * 2],
                                            "total_bytes": [peak, peak],
                                            "allocations": [1, 1]}}}
    f = tmp_path / "r.json"
    f.write_text(json.dumps({"benchmarks": [bench(100, 10000), bench(10, 1000),
                                            bench(1000, 100000), bench(2, 200)]}))
    return str(f)


def test_compare_stat_takes_a_list(tmp_path):
    p = call(CTL, "compare", pivot_run(tmp_path), "--columns", "peak", "--stat", "min,median")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["name", "peak:min", "peak:median"]
    # peaks [200, 400]: min 200 B, median 300 B
    assert lines[2].split() == ["test_x[2]", "200", "B", "300", "B"]
    p = call(CTL, "compare", pivot_run(tmp_path), "--stat", "min,bogus")
    assert (p.returncode, p.stderr) == (2, "benchmemctl compare: error: --stat: unknown stat "
                                           "'bogus' (min, max, mean, median, stddev, all; a "
                                           "comma-separated list)\n")


def test_pivot_values_are_sorted_numerically_with_a_change(tmp_path):
    p = call(CTL, "compare", pivot_run(tmp_path), "--pivot", "param:n", "--columns", "peak")
    assert p.returncode == 0, p.stderr
    rows = [line.split() for line in p.stdout.splitlines()[2:]]
    assert [r[-3] if len(r) == 4 else r[0] for r in rows[:4]] == \
        ["n=2", "n=10", "n=100", "n=1000"], rows
    assert rows[4] == ["change", "+49900.0%"], rows  # 200 B at n=2 to 100000 B at n=1000

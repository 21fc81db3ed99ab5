# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""One-line errors and exit codes of benchmem-run and benchmemctl."""
import os
import pwd
import subprocess

import pytest

from conftest import BUILD, require_tracing

RUN, CTL = str(BUILD / "benchmem-run"), str(BUILD / "benchmemctl")


def call(args, tmp_path, user=None, **kw):
    env = dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "none.sock"))
    if user:
        args = ["runuser", "-u", user, "--"] + args
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, **kw)


def one_line(p):
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_command_not_found_is_127_with_one_line(tmp_path):
    p = call([RUN, "--", "no-such-command-xyz"], tmp_path)
    assert p.returncode == 127
    assert one_line(p) == ("benchmem-run: error: cannot run 'no-such-command-xyz': "
                           "command not found")


def test_no_command_is_a_usage_error(tmp_path):
    p = call([RUN], tmp_path)
    assert p.returncode == 2
    assert "no command given" in one_line(p)


def test_bad_region_name_is_refused(tmp_path):
    p = call([RUN, "--name", "../etc", "--", "/bin/true"], tmp_path)
    assert p.returncode == 2
    assert one_line(p).startswith("benchmem-run: error: --name '../etc'")


def test_non_root_user_is_told_what_to_do(tmp_path):
    require_tracing()
    os.chmod(tmp_path, 0o755)
    p = call([RUN, "--embedded", "--", "/bin/true"], tmp_path, user="nobody",
             cwd="/")
    assert p.returncode == 2
    assert one_line(p) == ("benchmem-run: error: cannot trace: not root (tracing needs CAP_BPF "
                           "and CAP_PERFMON; run as root or through the benchmemd service)")


def test_exit_status_of_the_command_is_passed_through(tmp_path):
    require_tracing()
    p = call([RUN, "--quiet", "--", "/bin/sh", "-c", "exit 42"], tmp_path)
    assert p.returncode == 42, p.stderr


def test_command_options_stay_the_commands(tmp_path):
    require_tracing()
    p = call([RUN, "--quiet", "/bin/echo", "-n", "hi"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hi"


def test_signal_sent_to_benchmem_run_reaches_the_command(tmp_path):
    require_tracing()
    env = dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "none.sock"))
    proc = subprocess.Popen([RUN, "--quiet", "--", "/bin/sleep", "30"], env=env,
                            stderr=subprocess.PIPE, text=True)
    import time
    time.sleep(1.0)
    proc.terminate()
    assert proc.wait(timeout=20) == 128 + 15


def test_ctl_unknown_command(tmp_path):
    p = call([CTL, "frobnicate"], tmp_path)
    assert p.returncode == 2
    assert one_line(p) == "benchmemctl: error: unknown command 'frobnicate' (see benchmemctl --help)"


def test_ctl_without_collector_says_where_it_looked(tmp_path):
    p = call([CTL, "start", "x"], tmp_path)
    assert p.returncode == 3
    line = one_line(p)
    assert line.startswith(f"benchmemctl start: error: no collector at {tmp_path}/none.sock")


def test_ctl_start_outside_a_traced_session_is_refused(daemon, tmp_path):
    p = subprocess.run([CTL, "start", "x"], capture_output=True, text=True, env=daemon.env())
    assert p.returncode == 1
    assert "no_session" in one_line(p)

"""Turns each built tests/unit/test_*.c TAP binary into pytest items, one per TEST(); and keeps
every test off the system's collector."""
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Tests never reach the system socket (/run/benchmem/benchmemd.sock): a client a test starts
# without naming a collector finds none here and embeds its own, and a benchmemd the machine
# runs never sees a test's sessions. Tests that need a daemon start their own on a private
# socket (integration/conftest.py) and say so with BENCHMEM_SOCKET in the client's env.
os.environ["BENCHMEM_SOCKET"] = "/nonexistent/benchmem-tests/no-collector.sock"
TAP = re.compile(r"^(not )?ok \d+ - (.+)$")


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".c" and file_path.name.startswith("test_") \
            and file_path.parent.name == "unit":
        return TapFile.from_parent(parent, path=file_path)
    return None


class TapFile(pytest.File):
    def collect(self):
        exe = ROOT / "build" / self.path.relative_to(ROOT).with_suffix("")
        if not exe.exists():
            yield TapCase.from_parent(self, name="build", ok=False, diag=f"{exe} not built")
            return
        run = subprocess.run([exe], capture_output=True, text=True, timeout=300)
        diag, plan = [], False
        for line in run.stdout.splitlines():
            m = TAP.match(line)
            if m:
                yield TapCase.from_parent(self, name=m[2], ok=not m[1], diag="\n".join(diag))
                diag = []
            elif line.startswith("#"):
                diag.append(line)
            plan = plan or line.startswith("1..")
        if not plan or run.returncode not in (0, 1):
            yield TapCase.from_parent(self, name="exit", ok=False,
                                      diag=f"exit {run.returncode}\n{run.stderr[-4000:]}")


class TapFailure(Exception):
    pass


class TapCase(pytest.Item):
    def __init__(self, *, ok, diag, **kw):
        super().__init__(**kw)
        self.ok, self.diag = ok, diag

    def runtest(self):
        if not self.ok:
            raise TapFailure(self.diag)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, TapFailure):
            return f"{self.name} failed\n{self.diag}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, self.name

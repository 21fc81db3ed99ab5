# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A thread made after a subinterpreter (tests/integration/test_pyframes.py): the runtime's
list starts with the newest interpreter, so the thread is found past it. The marked line
allocates."""
import threading
try:
    import _interpreters as interpreters
except ImportError:
    import _xxsubinterpreters as interpreters
import benchmem

sub = interpreters.create()  # now the newest interpreter: head of the runtime's list


def fill(out):
    out.append([bytearray(10000) for _ in range(100)])  # at:fill


with benchmem.region("work"):
    keep = []
    t = threading.Thread(target=fill, args=(keep,))  # a thread state made after it
    t.start()
    t.join()

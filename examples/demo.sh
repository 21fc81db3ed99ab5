#!/bin/sh
# make demo: traces two small examples and prints their result tables.
set -eu
cd "$(dirname "$0")/.."
B=build
export BENCHMEM_SOCKET="${BENCHMEM_SOCKET:-/run/benchmem/benchmemd.sock}"
echo "== a C program (realloc growth and shrink; it prints what it requested):"
$B/benchmem-run --json $B/demo-c.json -- $B/workloads/realloc
echo
echo "== a Python script with regions, every object through malloc (--python-malloc):"
PYTHONPATH=client/python $B/benchmem-run --python-malloc --json $B/demo-py.json -- \
	/usr/bin/python3 examples/demo.py
echo
echo "== the same result file, compared with itself through benchmemctl:"
$B/benchmemctl compare $B/demo-py.json $B/demo-py.json --columns peak,allocated,allocations
echo
echo "Result files: $B/demo-c.json $B/demo-py.json"

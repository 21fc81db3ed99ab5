#!/bin/sh
# packaging/python-dist-info.sh PYPROJECT DIR — writes DIR/benchmem-<version>.dist-info for the
# package `make install` copies into DIR, so the python3 reading DIR finds the distribution and
# its pytest11 entry point (plain `pytest --benchmark-memory` loads the plugin) without pip.
set -eu
pyproject=$1
dir=$2
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$pyproject")
summary=$(sed -n 's/^description = "\(.*\)"$/\1/p' "$pyproject")
[ -n "$version" ] || { echo "python-dist-info.sh: no version in $pyproject" >&2; exit 1; }
info=$dir/benchmem-$version.dist-info
rm -rf "$dir"/benchmem-*.dist-info
install -d "$info"
printf 'Metadata-Version: 2.1\nName: benchmem\nVersion: %s\nSummary: %s\n' \
	"$version" "$summary" >"$info/METADATA"
# the same entry points as pyproject.toml's [project.entry-points.*]
printf '[pytest11]\nbenchmem.pytest_plugin = benchmem.pytest_plugin\n\n[pyperf.hook]\nbenchmem = benchmem.pyperf_hook:BenchmemHook\n' \
	>"$info/entry_points.txt"
printf 'benchmem\n' >"$info/top_level.txt"
printf 'debian\n' >"$info/INSTALLER"
chmod 0644 "$info"/*

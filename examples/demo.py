"""A small benchmark with two regions, as a user would mark them (client/python/benchmem)."""
import benchmem


def build(n):
    return [bytes(1000) for _ in range(n)]


for repeat in range(3):
    with benchmem.region("build_10k", params={"n": 10_000}):
        data = build(10_000)
        del data
with benchmem.region("join_1MiB"):
    s = b"".join([b"x" * 1024] * 1024)
    del s

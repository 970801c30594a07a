"""Drivers that run the same no-op shell jobs through peer systems, each in its own process.

Each driver is started as `python -m bench.peers.NAME N PARALLELISM WORKDIR`, runs N jobs
of `bash -c true` P at a time, and prints one JSON line: `{"ready": s, "end": s}`, times
since the epoch when its executor was ready and when the last result came back.
"""

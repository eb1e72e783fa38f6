#!/usr/bin/env python3
"""Seed inputs for the fuzz targets: writes the ones missing from corpus/.

    seeds.py <corpus-root> <chanfuzz-tool>

- schedule_fuzzer: one input per scenario `chanfuzz list` says passes (its
  name and a newline: the default schedule), and a few with decision bytes;
- program_fuzzer: hand-written programs (below), one per behaviour the model
  checks: rendezvous, buffering, close waking senders and receivers, select
  with and without default, contexts, timers, nil channels, panics;
- trace_fuzzer: valid traces of catalogue runs, and malformed ones.

Files are named by the SHA-1 of their content (STYLE.md rule 10), so running
this again adds nothing that is already there. The formats are described in
harness/fuzz/schedule_fuzzer.cpp, program.hpp and trace_fuzzer.cpp.
"""
import hashlib
import os
import subprocess
import sys

OPS = ["send", "recv", "try_send", "try_recv", "select", "close", "cancel", "sleep", "spawn",
       "wait"]


def program(channels, bodies, schedule=b""):
    """channels: capacities (0-3) or None for nil; bodies: lists of ops.

    An op is (kind, arg) or ("select", [cases], has_default) with cases
    ("send", c), ("recv", c) or ("ctx", k) (the last case only).
    """
    out = [len(channels) - 1]
    out += [28 if c is None else c for c in channels]
    out.append(len(bodies) - 1)
    for body in bodies:
        out.append(len(body))
        for op in body:
            out.append(OPS.index(op[0]))
            if op[0] == "select":
                cases, has_default = op[1], op[2]
                out.append(len(cases) - 2 + (3 if has_default else 0))
                for kind, arg in cases:
                    out.append({"send": 1 + (arg << 2), "recv": arg << 2, "ctx": 2 + (arg << 2)}[kind])
            else:
                out.append(op[1])
    return bytes(out) + schedule


PROGRAMS = [
    # an unbuffered rendezvous
    program([0], [[("spawn", 1), ("send", 0)], [("recv", 0)]]),
    # a buffered channel is a queue; receives after close drain it
    program([2], [[("spawn", 1), ("send", 0), ("send", 0), ("send", 0), ("close", 0)],
                  [("recv", 0), ("recv", 0), ("recv", 0), ("recv", 0)]]),
    # close wakes a blocked sender, which panics
    program([0], [[("spawn", 1), ("sleep", 1), ("close", 0)], [("send", 0)]]),
    # close wakes blocked receivers
    program([0], [[("spawn", 1), ("spawn", 1), ("sleep", 1), ("close", 0)], [("recv", 0)]]),
    # close of a closed channel, of a nil channel; send on a closed one
    program([1, None], [[("close", 0), ("close", 0)], [("close", 1)], [("send", 0)]]),
    program([1, None], [[("spawn", 1), ("spawn", 2), ("close", 0), ("close", 1)],
                        [("send", 0)], [("close", 0)]]),
    # select: default only when nothing is ready
    program([1], [[("send", 0), ("select", [("recv", 0), ("send", 0)], True),
                   ("select", [("recv", 0), ("send", 0)], True)]]),
    program([0, 0], [[("spawn", 1), ("select", [("recv", 1), ("recv", 0)], False)],
                     [("sleep", 1), ("send", 0)]]),
    program([0, 0], [[("spawn", 1), ("spawn", 2), ("select", [("recv", 0), ("recv", 1)], False),
                      ("select", [("recv", 0), ("recv", 1)], False)],
                     [("send", 0)], [("send", 1)]]),
    # select with sends and receives on both sides
    program([0, 1], [[("spawn", 1), ("select", [("send", 0), ("recv", 1), ("ctx", 0)], False),
                      ("cancel", 0)],
                     [("select", [("recv", 0), ("send", 1)], False), ("recv", 1)]]),
    # a select blocked on a channel that gets closed
    program([0, 0], [[("spawn", 1), ("sleep", 2), ("close", 1)],
                     [("select", [("send", 0), ("recv", 1)], False)]]),
    program([0, 0], [[("spawn", 1), ("sleep", 2), ("close", 0)],
                     [("select", [("recv", 1), ("send", 0)], False)]]),
    # the same channel twice in one select
    program([0], [[("spawn", 1), ("select", [("recv", 0), ("recv", 0), ("send", 0)], False)],
                  [("send", 0), ("recv", 0)]]),
    # contexts: cancelling x0 cancels x1
    program([0], [[("spawn", 1), ("spawn", 2), ("sleep", 1), ("cancel", 0), ("cancel", 1)],
                  [("select", [("recv", 0), ("ctx", 1)], False)], [("wait", 0)]]),
    program([0], [[("spawn", 1), ("cancel", 1), ("wait", 1), ("cancel", 0)], [("wait", 1)]]),
    # try operations: full, empty, closed
    program([1], [[("try_send", 0), ("try_send", 0), ("try_recv", 0), ("try_recv", 0),
                   ("close", 0), ("try_recv", 0), ("try_send", 0)]]),
    program([0], [[("spawn", 1), ("sleep", 1), ("try_send", 0), ("try_recv", 0)],
                  [("recv", 0)]]),
    # a full buffer blocks the sender until a receive makes room
    program([1], [[("spawn", 1), ("send", 0), ("send", 0), ("send", 0)],
                  [("sleep", 1), ("recv", 0), ("recv", 0), ("recv", 0)]]),
    # timers race sends
    program([0, 1], [[("spawn", 1), ("spawn", 2), ("sleep", 1), ("recv", 0), ("recv", 1)],
                     [("sleep", 1), ("send", 0)], [("sleep", 2), ("send", 1), ("send", 1)]]),
    # nil channels: never ready; blocked forever (a leak) unless there is a default
    program([None, 0], [[("select", [("send", 0), ("recv", 0)], True), ("spawn", 1)],
                        [("recv", 0)]]),
    # six tasks around four channels
    program([0, 1, 2, 3], [[("spawn", 1), ("spawn", 2), ("spawn", 3), ("spawn", 4), ("spawn", 5),
                            ("recv", 3), ("recv", 3)],
                           [("send", 0), ("send", 0)],
                           [("recv", 0), ("send", 1), ("recv", 0), ("send", 1)],
                           [("recv", 1), ("send", 2), ("recv", 1), ("send", 2)],
                           [("select", [("recv", 2), ("ctx", 0)], False), ("send", 3),
                            ("recv", 2), ("send", 3)],
                           [("sleep", 3), ("cancel", 0)]]),
    # two senders, one receiver, on a buffered channel: one sender's values keep their order
    program([2], [[("spawn", 1), ("spawn", 1), ("recv", 0), ("recv", 0), ("recv", 0), ("recv", 0)],
                  [("send", 0), ("send", 0)]]),
]

PROGRAM_SCHEDULES = [b"", b"\x01\x00\x02\x01\x03", b"\x02\x02\x01\x00\x01\x00\x02"]


def trace_inputs():
    """(selector byte, text) pairs: valid traces of a few runs, and junk."""
    out = [
        (0, b"cf1:AQgBg4CAArWnIYOAgAKJ3yQIAAgBg4CAApKYCQgACACDgIAC2783wTb8EA"),
        (0, b"cf1:"), (0, b"cf2:AQ"), (0, b"cf1:AQ=="), (0, b"hello"),
        (1, bytes([1])), (1, bytes([1, 0x08, 0x01, 0x08, 0x00])),
        (1, bytes([1, 0x0c, 0x02, 0x09, 0x00, 0x0e, 0x01])),
        (3, bytes([1, 0x88, 0x00, 0x00])), (5, bytes([2, 0x08, 0x01])),
    ]
    return out


def write(folder, data):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, hashlib.sha1(data).hexdigest())
    if os.path.exists(path):
        return 0
    with open(path, "wb") as f:
        f.write(data)
    return 1


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: seeds.py <corpus-root> <chanfuzz-tool>")
    root, tool = sys.argv[1], sys.argv[2]
    listing = subprocess.run([tool, "list"], check=True, capture_output=True, text=True).stdout
    passing = [line.split()[0] for line in listing.splitlines()[1:]
               if len(line.split()) > 1 and line.split()[1] == "pass"]
    added = 0
    for name in passing:
        for schedule in (b"", b"\x01\x00\x02\x01\x00\x03\x02\x01\x00"):
            added += write(os.path.join(root, "schedule_fuzzer"), name.encode() + b"\n" + schedule)
    for prog in PROGRAMS:
        for schedule in PROGRAM_SCHEDULES:
            added += write(os.path.join(root, "program_fuzzer"), prog + schedule)
    for selector, text in trace_inputs():
        for scenario in range(3):
            added += write(os.path.join(root, "trace_fuzzer"),
                           bytes([selector | (scenario << 3)]) + text)
    print(f"seeds: {added} new input(s) written under {root}/")


if __name__ == "__main__":
    main()

"""A run's trace id: 128 random bits, distinct per run whatever the test does to ``random``, and
distinct in a forked child (which starts with a copy of its parent's generator)."""

from __future__ import annotations

import os
import random

from pytest_agentops.trace.run import Run


def test_trace_ids_are_32_hex_digits_and_distinct_after_random_seed() -> None:
    ids = set()
    state = random.getstate()  # (given back: later tests keep their own stream)
    try:
        for _ in range(50):
            random.seed(0)  # as a test (or hypothesis) may seed the global generator before each run
            ids.add(Run("t").trace_id)
    finally:
        random.setstate(state)
    assert len(ids) == 50
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_a_forked_child_does_not_repeat_its_parents_next_id() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        os.close(read)
        os.write(write, Run("child").trace_id.encode())
        os._exit(0)
    os.close(write)
    parent = Run("parent").trace_id
    with os.fdopen(read, "rb") as fh:
        child = fh.read().decode()
    os.waitpid(pid, 0)
    assert len(child) == 32 and child != parent

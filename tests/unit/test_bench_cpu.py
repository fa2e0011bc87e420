"""CPU accounting of the benchmarks: what is measured, and what is left unmeasured rather than guessed."""

from __future__ import annotations

import os
import time

import pytest

from services.bench.common import CpuUse, Measurement, combined, cpu_now


def test_a_process_that_is_not_postgres_leaves_the_server_unmeasured() -> None:
    assert cpu_now([os.getpid()]).server is None  # this is Python, not a PostgreSQL backend
    assert cpu_now([]).server == 0.0  # no backends: nothing spent


def test_the_clients_cpu_is_this_process_and_steal_is_a_share() -> None:
    before = cpu_now([])
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    spent = cpu_now([]) - before
    assert spent.client >= 0.05
    assert 0.0 <= spent.steal_share <= 1.0


def test_rounds_add_up_and_an_unmeasured_server_stays_unmeasured() -> None:
    rounds = [
        Measurement("(a)", operations=100, seconds=1.0, cpu=CpuUse(server=0.02, client=0.01, steal=0.1, machine=2.0)),
        Measurement("(a)", operations=300, seconds=2.0, cpu=CpuUse(server=0.06, client=0.01, steal=0.0, machine=4.0)),
    ]
    whole = combined(rounds)
    assert whole.cpu_per_operation("server") == pytest.approx(200.0)  # 0.08 s over 400 operations
    assert whole.cpu_per_operation("client") == pytest.approx(50.0)
    assert whole.cpu is not None
    assert whole.cpu.steal_share == pytest.approx(0.1 / 6.0)
    remote = combined([rounds[0], Measurement("(a)", operations=1, cpu=CpuUse(server=None))])
    assert remote.cpu_per_operation("server") is None
    assert combined([rounds[0], Measurement("(a)", operations=1)]).cpu is None

"""Every input the fuzzer found a bug with stays fixed; a short seeded fuzz of every target.

The inputs are in ``tests/data/fuzz/TARGET/`` (``tests/data/fuzz/INDEX.md``
says what each one broke); the targets and their contract are those of
``fuzz/targets.py``: records or a documented error with file and line,
within the time and memory budgets.  CPU limits here are five times the
fuzzer's, so that a slow CI machine cannot fail a test that a real
regression (seconds of CPU on a 10 KB input) still fails.
"""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest
from fuzzing import load_targets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "fuzz"
CI_CPU_FACTOR = 5.0


T = load_targets()
KEPT = sorted(DATA.glob("*/*.bin"))
SEEDS = {name: [data for _id, data in target.seeds()] for name, target in T.TARGETS.items()}


@pytest.fixture(scope="module", autouse=True)
def warmed_up() -> None:
    """First-use costs (imports, compiled patterns, caches) are not an input's."""
    for name, target in T.TARGETS.items():
        for data in SEEDS[name][:5]:
            with contextlib.suppress(T.Finding):
                target.run(data)


def run_checked(name: str, data: bytes) -> None:
    target = T.TARGETS[name]
    original = T.CPU_LIMIT
    T.CPU_LIMIT = original * CI_CPU_FACTOR
    try:
        target.run(data)
    except Exception as exc:  # a finding: show it the way the fuzzer names it
        finding = T.classify(exc)
        pytest.fail(f"{name}: {finding.kind}: {finding}")
    finally:
        T.CPU_LIMIT = original


def test_every_target_has_seeds_and_the_kept_inputs_name_a_target() -> None:
    assert set(T.READERS) <= set(T.TARGETS)
    assert {"atom", "github"} <= set(T.TARGETS)
    for name, seeds in SEEDS.items():
        assert seeds, f"no seeds for {name}"
        assert all(0 < len(s) <= T.MAX_LEN for s in seeds)
    assert KEPT, "the regression inputs are missing"
    for path in KEPT:
        assert path.parent.name in T.TARGETS, path


@pytest.mark.parametrize("path", KEPT, ids=[f"{p.parent.name}/{p.name}" for p in KEPT])
def test_kept_fuzzer_input(path: Path) -> None:
    run_checked(path.parent.name, path.read_bytes())


@pytest.mark.parametrize("name", sorted(T.TARGETS))
def test_seeds_meet_the_contract(name: str) -> None:
    # Time only: tracemalloc would make this pass several seconds long.
    with T.memory_off():
        for data in SEEDS[name]:
            run_checked(name, data)


@pytest.mark.parametrize("name", sorted(T.TARGETS))
@settings(
    max_examples=10,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(st.randoms(use_true_random=False), st.integers(0, 10**6))
def test_seeded_mutations_meet_the_contract(name: str, rng: random.Random, pick: int) -> None:
    seeds = SEEDS[name]
    data = T.mutate(
        seeds[pick % len(seeds)], rng, T.dictionary_tokens(T.TARGETS[name].dictionary), seeds
    )
    run_checked(name, data)


def test_the_oracle_catches_what_it_must() -> None:
    """The checks can fail: a crash, a broken invariant and an overrun are findings."""

    def crash(_data: bytes) -> None:
        raise KeyError("boom")

    finding = T.classify(_raised(crash))
    assert finding.kind == "crash" and "KeyError" in finding.signature

    with pytest.raises(T.Finding, match="CPU") as slow:
        T.check_budget(T.Usage(cpu=2.0, peak=0), 1000)
    assert slow.value.kind == "slow"
    with pytest.raises(T.Finding, match="allocated") as memory:
        T.check_budget(T.Usage(cpu=0.0, peak=T.memory_budget(1000) + 1), 1000)
    assert memory.value.kind == "memory"
    T.check_budget(T.Usage(cpu=0.5, peak=T.memory_budget(1000)), 1000)

    from bibtools.diagnostics import Diagnostics
    from bibtools.formats import ReadResult
    from bibtools.model import Record

    lost = ReadResult(records=[Record()], diagnostics=Diagnostics(), detected=2)
    with pytest.raises(AssertionError, match="accounting"):
        T.check_read_result("bibtex", "x\n", lost)
    nowhere = ReadResult(records=[Record()], detected=1)
    nowhere.diagnostics.warn(T.SOURCE, 99, "a line that does not exist")
    with pytest.raises(AssertionError, match="outside the input"):
        T.check_read_result("bibtex", "x\n", nowhere)


def _raised(fn) -> BaseException:  # type: ignore[no-untyped-def]
    try:
        fn(b"")
    except BaseException as exc:
        return exc
    raise AssertionError("did not raise")

"""benchmarks/verify_scores.py scores verdicts as issue 15 counts them (the benchmark itself needs `bibtools verify`)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).parent
SCRIPT = HERE.parent / "benchmarks" / "verify_scores.py"


@pytest.fixture(scope="module")
def scores() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_scores", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["verify_scores"] = module
    spec.loader.exec_module(module)
    return module


def truth() -> dict:
    return json.loads((HERE / "data" / "verify" / "references.truth.json").read_text())


def test_the_truth_itself_scores_perfectly(scores: ModuleType) -> None:
    t = truth()
    results = [
        {"key": k, "verdict": r["verdict"], "retracted": r["retracted"]}
        for k, r in t["records"].items()
    ]
    s = scores.score(t, results)
    assert all(m["precision"] == m["recall"] == 1.0 for m in s["verdicts"].values())
    assert (s["false_alarms"], s["bad_right"], s["missing"]) == ([], 1.0, [])
    assert s["retracted"] == {"precision": 1.0, "recall": 1.0}


def test_a_crying_wolf_verifier_is_caught(scores: ModuleType) -> None:
    t = truth()
    results = [{"key": k, "verdict": "not-found", "retracted": False} for k in t["records"]]
    s = scores.score(t, results)
    assert len(s["false_alarms"]) == t["counts"]["verified"]
    assert s["verdicts"]["not-found"]["recall"] == 1.0
    assert s["verdicts"]["not-found"]["precision"] == t["counts"]["not-found"] / len(t["records"])
    assert s["retracted"]["recall"] == 0.0
    assert "false alarms on genuine references: 31" in scores.report("x", s, [{"crossref": 3}])


def test_missing_records_count_as_wrong(scores: ModuleType) -> None:
    s = scores.score(truth(), [])
    assert len(s["missing"]) == len(truth()["records"]) and s["bad_right"] == 0.0

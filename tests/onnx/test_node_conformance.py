"""The ONNX backend node tests for kiln's listed ops, one pytest case each.

A test not in expected_failures.txt must pass; a listed test that passes fails, so
the list only shrinks. The cases run in two crash-isolated child processes
(run_node_tests.run_all) the first time any of them is asked for; each pytest case
then reports its own result.
"""

from __future__ import annotations

import pytest

import run_node_tests as nt

SELECTED = nt.select_tests()
EXPECTED = nt.read_expected()


@pytest.fixture(scope="session")
def node_results(request, kiln):
    """{test name: None or reason} for the node tests this session collected."""
    wanted = [item.callspec.params["case"] for item in request.session.items
              if getattr(item, "callspec", None) and "case" in item.callspec.params
              and item.originalname == "test_node"]
    return nt.run_all(wanted or SELECTED)


def test_selection_is_not_empty():
    # The pinned onnx 1.22 wheel has 269 such tests; fewer means the data went missing.
    assert len(SELECTED) > 200, f"only {len(SELECTED)} node tests selected from {nt.NODE_DIR}"


def test_expected_failures_are_selected_tests():
    stale = sorted(set(EXPECTED) - set(SELECTED))
    assert not stale, f"expected_failures.txt lists tests that do not exist or are not selected: {stale}"


def test_coverage_table_is_current():
    # docs/onnx-coverage.md counts every node test; its pass count must be this tree's.
    summary = nt.coverage_summary()
    assert summary is not None, f"{nt.COVERAGE_FILE} is missing: run run_node_tests.py --update-expected"
    passed, total = summary
    n_tests = sum(1 for d in nt.NODE_DIR.iterdir() if (d / "model.onnx").is_file())
    assert (passed, total) == (len(SELECTED) - len(EXPECTED), n_tests), (
        f"{nt.COVERAGE_FILE.name} says {passed}/{total}, the tree {len(SELECTED) - len(EXPECTED)}"
        f"/{n_tests}: run run_node_tests.py --update-expected")


@pytest.mark.parametrize("case", SELECTED)
def test_node(case, node_results):
    reason = node_results.get(case, "no result")
    if case in EXPECTED:
        assert reason is not None, "now passes: remove it from expected_failures.txt"
        pytest.xfail(f"expected failure: {reason}")
    assert reason is None, reason

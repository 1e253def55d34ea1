"""Every pytest-xdist worker collects the same tests in the same order, or the run stops
("Different tests were collected between gw0 and gw1") before any test runs."""

import importlib.util
from pathlib import Path

ROOT_CONFTEST = Path(__file__).resolve().parents[2] / "conftest.py"


def _root_conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT_CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_files_seconds_do_not_depend_on_the_order_its_tests_come_in():
    # 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1 in floating point: summed in a set's order, which
    # differs between processes, two files that tie would swap places on one worker only.
    last = {"a::x": 0.1, "a::y": 0.2, "a::z": 0.3, "b::w": 0.6}
    conftest = _root_conftest()
    forward = conftest.seconds_per_file(
        [("a.py", "a::x"), ("a.py", "a::y"), ("a.py", "a::z"), ("b.py", "b::w")], last)
    backward = conftest.seconds_per_file(
        [("b.py", "b::w"), ("a.py", "a::z"), ("a.py", "a::y"), ("a.py", "a::x")], last)
    assert forward == backward == {"a.py": 0.6, "b.py": 0.6}


def test_a_file_with_no_recorded_durations_goes_first_and_none_known_means_no_order():
    conftest = _root_conftest()
    assert conftest.seconds_per_file([("new.py", "new::t"), ("a.py", "a::x")],
                                     {"a::x": 2.0}) == {"new.py": float("inf"), "a.py": 2.0}
    assert conftest.seconds_per_file([("a.py", "a::x")], {}) == {"a.py": 0.0}

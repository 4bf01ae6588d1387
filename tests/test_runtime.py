"""rnnlab.runtime.tune_allocator: applied on glibc, skipped when the user opted out or chose already."""

import sys

import pytest

from rnnlab import runtime


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tune_allocator_applies_on_linux(monkeypatch):
    monkeypatch.delenv("RNNLAB_TUNE_MALLOC", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    calls = []

    class FakeLibc:
        def mallopt(self, param, value):
            calls.append((param, value))
            return 1

    monkeypatch.setattr(runtime.ctypes, "CDLL", lambda name: FakeLibc())
    assert runtime.tune_allocator() is True
    assert calls == [(-3, 1 << 30), (-1, 1 << 30)]


@pytest.mark.parametrize(("name", "value"), [("RNNLAB_TUNE_MALLOC", "0"), ("MALLOC_TRIM_THRESHOLD_", "100000")])
def test_tune_allocator_respects_the_environment(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    monkeypatch.setattr(runtime.ctypes, "CDLL", lambda name: pytest.fail("must not touch malloc"))
    assert runtime.tune_allocator() is False

"""Shared pytest fixtures: every process a test starts is stopped when the test ends, and the
kernel's log is printed when a test fails."""
import pytest

import herz_harness as h


@pytest.fixture
def procs(request):
    started = []

    class Factory:
        def upstream(self, name="up", **kw):
            p = h.Upstream(name, **kw)
            started.append(p)
            return p

        def kernel(self, config, upstreams=(), **kw):
            p = h.Kernel(config, upstreams, **kw)
            started.append(p)
            return p

    yield Factory()
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for p in reversed(started):
        p.stop()
        if failed and p.name == "kernel":
            print(f"---- {p.name} log ----\n{p.output()[-4000:]}")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)

"""config/wsgi.py: each process freezes its long-lived objects once it has served its first requests."""

import gc

import pytest

from config.wsgi import FreezeAfterWarmUp, application


@pytest.fixture(autouse=True)
def _unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_process_freezes_after_its_first_requests_once():
    served = []

    def app(environ, start_response):
        served.append(environ["PATH_INFO"])
        return [b"ok"]

    wrapped = FreezeAfterWarmUp(app, requests=3)
    for n in range(2):
        assert wrapped({"PATH_INFO": f"/{n}"}, None) == [b"ok"]
    assert gc.get_freeze_count() == 0
    kept = object()  # alive before the third request: frozen by it
    wrapped({"PATH_INFO": "/2"}, None)
    frozen = gc.get_freeze_count()
    assert frozen > 0 and kept is not None
    gc.unfreeze()
    wrapped({"PATH_INFO": "/3"}, None)  # never again
    assert gc.get_freeze_count() == 0 and served == ["/0", "/1", "/2", "/3"]


def test_a_failing_request_counts_too():
    def app(environ, start_response):
        raise RuntimeError("boom")

    wrapped = FreezeAfterWarmUp(app, requests=1)
    with pytest.raises(RuntimeError):
        wrapped({}, None)
    assert gc.get_freeze_count() > 0


def test_the_project_s_application_is_wrapped():
    assert isinstance(application, FreezeAfterWarmUp)

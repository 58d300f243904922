"""The suite's processes, forked inner sessions included, load a one-certificate bundle (tests/trust.py)."""

from __future__ import annotations

import os
import ssl

import pytest

CHILD = """
import os
import ssl

import httpx2


def test_a_client_here_loads_one_root():
    context = httpx2.Client()._transport._pool._ssl_context
    assert os.environ["SSL_CERT_FILE"] == {path!r}
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 1
"""


def test_the_bundle_holds_one_root_that_loads() -> None:
    path = os.environ["SSL_CERT_FILE"]
    assert os.path.basename(path).startswith("agentops-test-ca-")
    assert ssl.create_default_context(cafile=path).cert_store_stats()["x509_ca"] == 1


def test_a_forked_inner_session_and_its_clients_load_one_root(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_child=CHILD.format(path=os.environ["SSL_CERT_FILE"]))
    result = pytester.runpytest_subprocess("-p", "no:agentops")
    result.assert_outcomes(passed=1)

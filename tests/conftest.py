"""Fixtures every part of the suite shares: the local Amazon Connect on a free
loopback port, stopped at teardown."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings

from connect_local import Config, LocalConnect
from logs.setup import QUIET_LIBRARIES, StderrHandler
from tests.connect_local.configs import config_with
from tests.support.dynamodb import DUMMY_CREDENTIALS, moto_server
from tests.support.token_guard import TokenGuard, tokens_in_service_logs

_TOKEN_GUARD = TokenGuard()

# Generated tests (hypothesis) draw the same examples every run, so the suite answers the same for the
# same code and CI turns red for a change, not for a draw; `HYPOTHESIS_PROFILE=explore make test`
# draws new and more examples each run, to search.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "plants_tokens: the test logs credentials on purpose (to test the scrub); the token guard skips it"
    )
    logging.getLogger().addHandler(_TOKEN_GUARD)


def pytest_runtest_setup(item: pytest.Item) -> None:
    _TOKEN_GUARD.test = item.nodeid
    _TOKEN_GUARD.skipping = item.get_closest_marker("plants_tokens") is not None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No log line of the whole suite carries a token: the lines logged here and the service logs
    the tests' child processes wrote. Any one fails the session, named."""
    found = list(_TOKEN_GUARD.found)
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:
        found += tokens_in_service_logs(factory.getbasetemp())
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"{len(found)} log lines carry a token:", red=True)
            for line in found[:50]:
                reporter.write_line("  " + line, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """`run.main` configures logging for the whole process (its handler, the root's level); each test
    leaves it as it found it, so a `--log-level INFO` in one test does not change what the next logs."""
    root = logging.getLogger()
    ours, level = [h for h in root.handlers if isinstance(h, StderrHandler)], root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    yield
    for handler in [h for h in root.handlers if isinstance(h, StderrHandler) and h not in ours]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, quiet_level in quiet.items():
        logging.getLogger(name).setLevel(quiet_level)


@pytest.fixture
def start_server() -> Iterator[Callable[[Config], LocalConnect]]:
    """Start a local Amazon Connect with a given configuration; all are stopped at teardown."""
    started: list[LocalConnect] = []

    def start(config: Config) -> LocalConnect:
        server = LocalConnect(config).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: Callable[[Config], LocalConnect]) -> LocalConnect:
    """A local Amazon Connect with the default test configuration."""
    return start_server(config_with())


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """DynamoDB for the session: one moto server on loopback (each test makes a fresh table in it)."""
    with moto_server() as endpoint_url:
        yield endpoint_url


@pytest.fixture
def dynamodb_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys for boto3's default chain during the test (moto accepts any), so no real ones are read."""
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)

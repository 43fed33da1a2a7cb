"""The suite-wide check that no log line carries a token (tests/support/token_guard.py) tells a
token from what the service logs legitimately."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from pathlib import Path

from tests.support.token_guard import TokenGuard, token_in, tokens_in_service_logs


def test_tokens_and_secrets_are_found_and_ids_and_digests_are_not() -> None:
    for credential in (secrets.token_urlsafe(48), secrets.token_urlsafe(32), "whsec_" + secrets.token_urlsafe(24),
                       "Bearer " + secrets.token_urlsafe(32)):
        assert token_in(f"conversation c-1: refused ({credential})") is not None
    for harmless in (str(uuid.uuid4()), hashlib.sha256(b"x").hexdigest(), "Bearer <redacted>",
                     "conversation hello-3fa2c1: SendMessage failed (ThrottlingException), retry 2 in 1.0 s"):
        assert token_in(harmless) is None


def test_the_guard_keeps_each_line_with_a_token_and_the_test_that_logged_it(tmp_path: Path) -> None:
    guard = TokenGuard()
    guard.test = "tests/x.py::test_y"
    logger = logging.getLogger("token-guard-test")
    logger.addHandler(guard)
    logger.propagate = False  # the session's own guard is not to see this test's planted token
    try:
        logger.warning("fine: %s", uuid.uuid4())
        logger.warning("leaked: %s", secrets.token_urlsafe(48))
    finally:
        logger.removeHandler(guard)
    assert len(guard.found) == 1 and guard.found[0].startswith("tests/x.py::test_y: token-guard-test:")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "planted.log").write_text(f"ok\nWARNING token {secrets.token_urlsafe(32)}\n")
    assert [line.split(":")[1] for line in tokens_in_service_logs(tmp_path, name="planted.log")] == ["2"]

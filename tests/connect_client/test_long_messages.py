"""A message over the configured limit is refused before any call, never truncated."""

from __future__ import annotations

import pytest

from connect_client import MessageTooLong, refuse_long_message


def test_refusing_keeps_a_fitting_message_and_names_the_sizes_of_a_long_one() -> None:
    assert refuse_long_message("fits", 4) == "fits"
    with pytest.raises(MessageTooLong, match="content is 5 characters, the limit is 4"):
        refuse_long_message("fits!", 4)

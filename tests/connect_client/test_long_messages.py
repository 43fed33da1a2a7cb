"""A message over the configured limit in UTF-8 bytes is refused before any call, never truncated."""

from __future__ import annotations

import pytest

from connect_client import MessageTooLong, refuse_long_message


def test_refusing_keeps_a_fitting_message_and_names_the_sizes_of_a_long_one() -> None:
    assert refuse_long_message("fits", 4) == "fits"
    with pytest.raises(MessageTooLong, match="content is 5 bytes in UTF-8, the limit is 4"):
        refuse_long_message("fits!", 4)


def test_the_limit_is_in_bytes_so_three_cyrillic_letters_outweigh_four() -> None:
    assert refuse_long_message("жж", 4) == "жж"
    with pytest.raises(MessageTooLong, match="content is 6 bytes"):
        refuse_long_message("жжж", 4)

"""Long messages: split by UTF-8 bytes, in order, on sensible boundaries, never inside a character; never truncated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.long_messages import split_message, utf8_size


@given(st.text(st.characters(codec="utf-8"), max_size=400), st.integers(min_value=4, max_value=60))
def test_pieces_fit_the_limit_in_bytes_and_join_back_to_the_message(text: str, limit: int) -> None:
    pieces = split_message(text, limit)

    assert "".join(pieces) == text
    assert all(0 < utf8_size(piece) <= limit for piece in pieces)


def test_the_limit_is_in_utf8_bytes_so_a_non_latin_text_takes_more_pieces() -> None:
    greek = "αβγδεζηθικ"  # two bytes a letter
    assert split_message(greek, 10) == ["αβγδε", "ζηθικ"]
    assert split_message("a" * 10, 10) == ["a" * 10]


def test_a_piece_never_ends_inside_a_character() -> None:
    # 3 + 4 + 3 bytes: a 5-byte limit must not cut the 4-byte emoji's bytes.
    assert split_message("中😀中", 5) == ["中", "😀", "中"]


def test_a_message_within_the_limit_is_one_piece() -> None:
    assert split_message("short", 5) == ["short"]
    assert split_message("", 5) == []


def test_a_paragraph_break_is_preferred() -> None:
    text = "First paragraph here. It goes on.\n\nSecond paragraph."

    assert split_message(text, 40) == ["First paragraph here. It goes on.\n\n", "Second paragraph."]


def test_then_a_line_break_then_a_sentence_end_then_a_space() -> None:
    assert split_message("one line of text\nanother line", 20) == ["one line of text\n", "another line"]
    assert split_message("A sentence ends. Another one follows", 24) == ["A sentence ends. ", "Another one follows"]
    assert split_message("words without any sentence end", 16) == ["words without ", "any sentence end"]


def test_a_boundary_too_early_gives_way_to_a_later_finer_one() -> None:
    text = "Hi\n\nthis is a long second paragraph"

    assert split_message(text, 20)[0] == "Hi\n\nthis is a long "


def test_a_word_longer_than_the_limit_is_cut_but_not_before_a_combining_mark() -> None:
    assert split_message("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert split_message("abce\u0301fg", 4) == ["abc", "e\u0301f", "g"]  # the mark is 2 bytes


def test_a_limit_below_one_character_is_an_error() -> None:
    with pytest.raises(ValueError, match="limit must be at least 4 bytes"):
        split_message("x", 3)

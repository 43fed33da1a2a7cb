"""Pure pieces: GetTranscript paging and the rate limiter's token buckets."""

from __future__ import annotations

from typing import Literal

from hypothesis import given
from hypothesis import strategies as st

from connect_local.config import RateLimit
from connect_local.model import Item
from connect_local.throttle import TokenBucket
from connect_local.transcript import TranscriptQuery, transcript_page


def items(count: int) -> list[Item]:
    return [Item(f"i{n}", "MESSAGE", "c", "p", "Bob", "CUSTOMER", "text/plain", 1000.0 + n / 1000, 1000.0 + n / 1000, content=str(n)) for n in range(count)]


def scan(transcript: list[Item], direction: Literal["FORWARD", "BACKWARD"], page_size: int) -> list[list[str]]:
    pages, token = [], None
    while True:
        query = TranscriptQuery(max_results=page_size, next_token=token, scan_direction=direction)
        page, token = transcript_page(transcript, query, "c")
        pages.append([item.id for item in page])
        if token is None:
            return pages


@given(st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=100))
def test_forward_pages_tile_the_transcript_in_order(count: int, page_size: int) -> None:
    transcript = items(count)
    pages = scan(transcript, "FORWARD", page_size)
    assert [i for page in pages for i in page] == [item.id for item in transcript]
    assert all(len(page) <= page_size for page in pages)


@given(st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=100))
def test_backward_pages_tile_the_transcript_from_the_newest(count: int, page_size: int) -> None:
    transcript = items(count)
    pages = scan(transcript, "BACKWARD", page_size)
    assert [i for page in reversed(pages) for i in page] == [item.id for item in transcript]


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(RateLimit(rate=2, burst=3), clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 0.5
    assert [bucket.take() for _ in range(2)] == [True, False]
    now[0] = 100.0
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]

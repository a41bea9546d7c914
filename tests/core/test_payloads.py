import enum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.payloads import Payload, PayloadError, decode, shorten


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Sample(Payload, prefix="test.sample"):
    number: int
    text: str
    flag: bool
    colour: Colour
    maybe: int | None


class MemoryStore:
    def __init__(self) -> None:
        self.rows: dict[str, str] = {}

    async def put_payload(self, key: str, raw: str) -> None:
        self.rows[key] = raw

    async def get_payload(self, key: str) -> str | None:
        return self.rows.get(key)


@given(
    st.integers(),
    st.text(),
    st.booleans(),
    st.sampled_from(Colour),
    st.one_of(st.none(), st.integers()),
)
def test_pack_unpack_round_trip(number: int, text: str, flag: bool, colour: Colour,
                                maybe: int | None) -> None:
    payload = Sample(number, text, flag, colour, maybe)
    assert Payload.unpack(payload.pack()) == payload


@given(st.text(min_size=0, max_size=300))
async def test_long_payloads_are_stored_and_fit(text: str) -> None:
    store = MemoryStore()
    payload = Sample(1, text, True, Colour.RED, None)
    data = await shorten(payload.pack(), 64, store)
    assert len(data.encode()) <= 64
    assert await decode(data, store) == payload


def test_unknown_and_broken_payloads_are_refused() -> None:
    with pytest.raises(PayloadError):
        Payload.unpack("nope:1")
    with pytest.raises(PayloadError):
        Payload.unpack("test.sample:x:y:1:red:1")


def test_prefix_clash_is_refused() -> None:
    with pytest.raises(ValueError):

        class Other(Payload, prefix="test.sample"):
            n: int

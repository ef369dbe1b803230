"""money.split: an amount over weights by largest remainder, ties to the
earliest weight (the order member discount and coupons spread in)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pos_promo.engine.money import split


def test_a_cent_left_over_goes_to_the_largest_remainder() -> None:
    # 7 over 2, 3, 5: 1.4, 2.1, 3.5 -> 1, 2, 3 and one cent left, to the .5
    assert split(7, [2, 3, 5]) == [1, 2, 4]


def test_cents_left_over_go_to_the_earliest_of_equal_remainders() -> None:
    assert split(10, [1, 1, 1]) == [4, 3, 3]
    assert split(2, [1, 1, 1, 1]) == [1, 1, 0, 0]
    # 3 over 5, 5, 1: 1.36, 1.36, 0.27 -> the first of the two .36 gets the cent
    assert split(3, [5, 5, 1]) == [2, 1, 0]


def test_nothing_to_split_or_nothing_to_split_over_gives_zeros() -> None:
    assert split(0, [3, 4]) == [0, 0]
    assert split(5, [0, 0]) == [0, 0]


@given(st.integers(0, 10_000), st.lists(st.integers(0, 5_000), min_size=1, max_size=80))
def test_shares_add_up_and_round_by_largest_remainder(amount: int, weights: list[int]) -> None:
    shares = split(amount, weights)
    total = sum(weights)
    if total == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == amount
    if amount <= total:
        assert all(share <= weight for share, weight in zip(shares, weights, strict=True))
    floors = [amount * weight // total for weight in weights]
    remainders = [amount * weight % total for weight in weights]
    rounded_up = [share - low for share, low in zip(shares, floors, strict=True)]
    assert set(rounded_up) <= {0, 1}
    for i, up in enumerate(rounded_up):
        for j, other in enumerate(rounded_up):
            if up and not other:  # i got a cent j did not: a larger remainder, or earlier
                assert (-remainders[i], i) < (-remainders[j], j)

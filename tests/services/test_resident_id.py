"""GB 11643 resident ID numbers."""
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from app.services.resident_id import check_digit, is_valid_resident_id, mask_resident_id


def test_known_numbers():
    assert is_valid_resident_id("11010519491231002X")
    assert is_valid_resident_id("11010519491231002x")
    assert not is_valid_resident_id("110105194912310021")  # wrong check digit
    assert not is_valid_resident_id("110105194902300028")  # 30 February
    assert not is_valid_resident_id("11010519491231002")   # 17 characters
    assert not is_valid_resident_id("01010519491231002X")  # region cannot start with 0


@given(region=st.integers(110000, 659999), born=st.dates(date(1900, 1, 1), date(2099, 12, 31)), seq=st.integers(0, 999))
def test_check_digit_makes_any_real_number_valid(region, born, seq):
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    number = first17 + check_digit(first17)
    assert is_valid_resident_id(number)
    wrong = first17 + ("0" if number[-1] != "0" else "1")
    assert not is_valid_resident_id(wrong)


def test_mask_keeps_region_and_last_four():
    assert mask_resident_id("11010519491231002X") == "110105********002X"

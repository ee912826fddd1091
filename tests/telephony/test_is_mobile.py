"""Whether a stored number can take texts."""
import pytest


@pytest.mark.parametrize("raw", ["07700 900123", "07700 900999", "0114 496 0123", "020 7946 0321", "07911 123456",
                                 "07624 123456", "07000 123456", "07600 123456", "0800 123 4567", "+33 6 12 34 56 78",
                                 "+1 202 555 0123", "0121 496 0000", "07700 901000"])
def test_is_mobile_without_parsing_agrees_with_phonenumbers(raw):
    """UK numbers skip phonenumbers' parse; the answer is the same as parsing them."""
    import phonenumbers

    from tts.telephony.services import is_mobile

    number = phonenumbers.parse(raw, "GB")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    parsed = phonenumbers.parse(e164, "GB")
    expected = (parsed.country_code == 44 and 7700900000 <= parsed.national_number <= 7700900999) or (
        phonenumbers.number_type(parsed) in (phonenumbers.PhoneNumberType.MOBILE,
                                            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE))
    assert is_mobile(e164) is expected

"""Verification codes: at least 128 bits, printed in groups, forgiving on input."""

from modules.certificates.codes import ALPHABET, LENGTH, group_code, new_code, normalise_code


def test_code_carries_at_least_128_random_bits():
    assert len(ALPHABET) == 32 and LENGTH * 5 >= 128
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == LENGTH and set(c) <= set(ALPHABET) for c in codes)


def test_grouped_in_fours():
    code = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert group_code(code) == "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"


def test_normalise_accepts_what_people_type():
    code = new_code()
    grouped = group_code(code)
    assert normalise_code(grouped) == code
    assert normalise_code(grouped.lower().replace("-", " ")) == code
    assert normalise_code(" " + code + "\n") == code


def test_normalise_folds_confusable_letters():
    assert normalise_code("O" * 32) == "0" * 32
    assert normalise_code("il" * 16) == "1" * 32


def test_normalise_rejects_non_codes():
    assert normalise_code(None) is None
    assert normalise_code("") is None
    assert normalise_code("ABC") is None
    assert normalise_code("U" * 32) is None            # U is not in Crockford's alphabet
    assert normalise_code("A" * 33) is None
    assert normalise_code("../../etc/passwd") is None

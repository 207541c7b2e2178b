"""The passphrase: random words from a list long enough for 55 bits, none that reads as a
sign on paper, forgiving of how it is typed back."""

import pytest

from intake.public import passphrases
from intake.public.passphrases import normalised, passphrase_hash, passphrase_matches, words

# Words a searcher could read as a plan to flee or a link to the army and the police.
TELLING = {
    "agent", "army", "arrest", "attack", "battle", "bomb", "border", "bullet", "citizen",
    "country", "crime", "danger", "desert", "document", "enemy", "enlist", "escape", "exile",
    "exit", "flee", "guard", "gun", "hidden", "illegal", "judge", "knife", "law", "legal",
    "nation", "passport", "patrol", "permit", "police", "prison", "rebel", "rifle", "route",
    "run", "secret", "shoot", "soldier", "spy", "tank", "target", "ticket", "travel",
    "trial", "uniform", "veteran", "visa", "war", "warfare", "warrior", "weapon",
}  # fmt: skip


def test_the_list_is_long_enough_and_plain():
    listed = words()
    assert len(listed) >= 2048
    assert len(set(listed)) == len(listed)
    assert all(word.isascii() and word.isalpha() and word.islower() for word in listed)
    assert all(3 <= len(word) <= 12 for word in listed)


def test_a_passphrase_has_at_least_55_bits():
    assert passphrases.entropy_bits() >= 55


def test_no_word_reads_as_a_sign():
    assert not TELLING & set(words())


def test_passphrases_are_random_words():
    drawn = {passphrases.passphrase_new() for _ in range(200)}
    assert len(drawn) == 200
    for phrase in drawn:
        assert len(phrase.split()) == passphrases.WORD_COUNT
        assert set(phrase.split()) <= set(words())


@pytest.mark.parametrize(
    "typed",
    [
        "apple banana cherry pumpkin zebra",
        "  Apple  BANANA\ncherry-pumpkin, zebra. ",
        "фззду ифтфтф сруккн згьзлшт яуикф",
    ],
)
def test_typing_is_forgiven(typed):
    assert normalised(typed) == "apple banana cherry pumpkin zebra"


def test_only_the_right_phrase_matches(settings):
    encoded = passphrase_hash("apple banana cherry pumpkin zebra")
    assert "apple" not in encoded
    assert passphrase_matches("Apple Banana Cherry Pumpkin Zebra", encoded)
    assert not passphrase_matches("apple banana cherry pumpkin zebras", encoded)
    assert not passphrase_matches("apple banana cherry zebra pumpkin", encoded)
    assert not passphrase_matches("", encoded)


def test_nothing_matches_a_missing_hash():
    assert not passphrase_matches("apple banana cherry pumpkin zebra", "")

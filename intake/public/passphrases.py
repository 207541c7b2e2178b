"""The passphrase a person comes back with: a few random words, shown once, kept only as a
slow hash (the project's password hasher: Argon2 in production).

The words (words.txt, 2,053 of them, ASCII, lower case) are the BIP-39 English list (MIT
licence, as shipped by the `mnemonic` package, (c) 2013-2016 Pavol Rusnak) without the
words a search of someone's pockets at a checkpoint would read as a sign: army, border,
escape, passport-like and police-like words and their kind. Everyday words of our own
(fruit, birds, kitchen things) take their places. Five words drawn with `secrets` give
5 x log2(2,053), just over 55 bits: hopeless to guess through the throttled form, and
slow to try against a stolen hash. One list for every language: Latin letters can be typed
anywhere, and a phrase typed on a Russian keyboard layout by mistake is read as meant.
"""

import math
import re
import secrets
from functools import cache
from pathlib import Path

from django.contrib.auth.hashers import check_password, make_password

WORD_COUNT = 5
WORDS_FILE = Path(__file__).with_name("words.txt")

# A phrase typed with the Russian layout switched on: each key's Cyrillic letter back to
# the Latin one on the same key.
RUSSIAN_KEYS = str.maketrans("йцукенгшщзфывапролдячсмить", "qwertyuiopasdfghjklzxcvbnm")
SEPARATORS = re.compile(r"[\W_]+")


@cache
def words() -> tuple[str, ...]:
    return tuple(WORDS_FILE.read_text(encoding="ascii").split())


def entropy_bits() -> float:
    return WORD_COUNT * math.log2(len(words()))


def passphrase_new() -> str:
    """Five random words, separated by spaces."""
    return " ".join(secrets.choice(words()) for _ in range(WORD_COUNT))


def normalised(passphrase: str) -> str:
    """What is hashed and compared: lower case, single spaces, whatever the person put
    between the words (hyphens, commas, line breaks) and whichever keyboard layout."""
    text = passphrase.casefold().translate(RUSSIAN_KEYS)
    return " ".join(SEPARATORS.sub(" ", text).split())


def passphrase_hash(passphrase: str) -> str:
    return make_password(normalised(passphrase))


def passphrase_matches(passphrase: str, encoded: str) -> bool:
    """Checks a passphrase against its stored hash; with no hash to check against, does the
    same work as a check (so the time taken tells nothing) and answers no."""
    if not encoded:
        make_password(normalised(passphrase))
        return False
    return check_password(normalised(passphrase), encoded)

"""The documents' bytes at rest: encrypted under the field keys (privacy.keys: the first
key encrypts, every configured key decrypts) before they reach storage, under a random
name with no extension. Storage is Django's `storages["documents"]`, the filesystem under
var/ by default.

Fernet encrypts a whole message at once, so a file is held in memory while it is
encrypted or decrypted: with DOCUMENT_MAX_BYTES at 20 MB that is about 50 MB per upload
or download at most (the bytes, the token, its base64), which we accept.
"""

import secrets

from cryptography.fernet import InvalidToken
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from privacy.fields import DecryptionError
from privacy.keys import crypter

PLACE = "documents.document.blob"


def storage() -> Storage:
    return storages["documents"]


def store(content: bytes) -> str:
    """Encrypts and writes the bytes; the storage name to keep on the row."""
    return storage().save(secrets.token_hex(20), ContentFile(crypter().encrypt(content)))


def read(name: str) -> bytes:
    with storage().open(name, "rb") as blob:
        token = blob.read()
    try:
        return crypter().decrypt(token)
    except InvalidToken:
        raise DecryptionError(
            f"{PLACE} holds a file that does not decrypt under FIELD_ENCRYPTION_KEY.",
            place=PLACE,
        ) from None


def rotate(name: str) -> str:
    """Writes the blob again under the first key, as a new blob; its name. The caller
    points the row at it and deletes the old one once that is committed."""
    with storage().open(name, "rb") as blob:
        token = blob.read()
    return storage().save(secrets.token_hex(20), ContentFile(crypter().rotate(token)))


def delete(name: str) -> None:
    storage().delete(name)

"""Checkpoints of the audit chain kept outside the database.

The keyed chain (audit/log.py) stops anyone without AUDIT_KEY from rewriting events, but
not from cutting the end off: delete the newest events (or all of them), set the head back,
and what is left still verifies. A checkpoint, the head's sequence number and link written
where the database's owner cannot reach, names that cut: `verify_audit` finds every
checkpointed event still there with the same link, or says which one is not.

Kept in two places:

- a file of one JSON line per checkpoint, only ever appended to, in a directory of its own
  (AUDIT_CHECKPOINT_DIR: its own volume in production, on a file system that can make it
  append-only). Each line carries an HMAC under AUDIT_KEY, so a forged or edited line is
  named too; a removed line is what the e-mailed copies are for;
- once a day, an e-mail to the admins who receive e-mail (accounts/tasks.py): a copy nobody
  on the server can take back. `verify_audit --checkpoint SEQ:LINK` checks the chain
  against one of them.

A checkpoint holds numbers and a hash: nothing personal.
"""

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from audit.models import ChainHead

FILE_NAME = "checkpoints.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    link: str
    at: str
    # Where it came from, for the verdict: "file line 12", "given on the command line".
    source: str


class UnreadableCheckpoint(Exception):
    """A line of the checkpoint file that does not parse or whose MAC does not verify."""


def path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR) / FILE_NAME


def _message(seq: int, link: str, at: str) -> bytes:
    return f"{seq}|{link}|{at}".encode()


def _mac(key: bytes, seq: int, link: str, at: str) -> str:
    return hmac.new(key, _message(seq, link, at), hashlib.sha256).hexdigest()


def current_head() -> tuple[int, str]:
    head = ChainHead.objects.filter(id=1).first()
    return (head.seq, head.last_hash) if head else (0, "")


def write() -> Checkpoint | None:
    """Appends the head to the file when it moved since the last line, and returns it (for
    the admins' e-mail: accounts/tasks.py). None when there is nothing to checkpoint yet."""
    seq, link = current_head()
    if seq == 0:
        return None
    at = timezone.now().isoformat(timespec="seconds")
    checkpoint = Checkpoint(seq=seq, link=link, at=at, source="")
    directory = path().parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    last = _last_written_seq()
    if last is None or last < seq:
        line = {"seq": seq, "link": link, "at": at}
        line["mac"] = _mac(settings.AUDIT_KEY[0], seq, link, at)
        descriptor = os.open(path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (json.dumps(line, sort_keys=True) + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    return checkpoint


def _last_written_seq() -> int | None:
    try:
        lines = path().read_bytes().splitlines()
    except FileNotFoundError:
        return None
    for raw in reversed(lines):
        try:
            return int(json.loads(raw)["seq"])
        except (ValueError, KeyError, TypeError):
            continue
    return None


def read() -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint in the file, and what is wrong with the lines that are not one."""
    try:
        lines = path().read_bytes().splitlines()
    except FileNotFoundError:
        return [], []
    checkpoints, problems = [], []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            checkpoints.append(_parse(raw, f"file line {number}"))
        except UnreadableCheckpoint as error:
            problems.append(f"checkpoint file line {number}: {error}")
    return checkpoints, problems


def _parse(raw: bytes, source: str) -> Checkpoint:
    try:
        line = json.loads(raw)
        seq, link, at, mac = int(line["seq"]), str(line["link"]), str(line["at"]), line["mac"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise UnreadableCheckpoint("not a checkpoint") from None
    if not any(
        hmac.compare_digest(_mac(key, seq, link, at), str(mac)) for key in settings.AUDIT_KEY
    ):
        raise UnreadableCheckpoint("its MAC does not verify under AUDIT_KEY (edited or forged)")
    return Checkpoint(seq=seq, link=link, at=at, source=source)


def parse_given(value: str) -> Checkpoint:
    """A checkpoint typed from an e-mail: "SEQ:LINK"."""
    seq, _, link = value.strip().partition(":")
    if not seq.isdigit() or len(link) != 64:
        raise ValueError(f"{value!r} is not SEQ:LINK (a number, a colon, 64 hex digits)")
    return Checkpoint(seq=int(seq), link=link.lower(), at="", source="given on the command line")


def parse_time(at: str) -> datetime | None:
    try:
        return datetime.fromisoformat(at)
    except ValueError:
        return None

"""`@username` in a note: who it names. Usernames are letters, digits and @/./+/-/_; a
mention is written after a space or at the start, so an e-mail address is not one."""

import re

MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]+)")


def handles_in(text: str) -> list[str]:
    """The usernames mentioned in the text, each once, in order; a full stop or comma
    closing the sentence after a mention is not part of it."""
    found: dict[str, None] = {}
    for match in MENTION.finditer(text):
        handle = match.group(1).rstrip(".,")
        if handle:
            found[handle] = None
    return list(found)

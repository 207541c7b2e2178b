"""Long polling for a bot whose site Telegram cannot reach (no public address): a process of
its own, asking Telegram for updates and storing them as the webhook would.

An update is confirmed to Telegram (the next call's offset) only once it is stored, so a
poller stopped at any moment loses nothing: Telegram sends the rest again, and an update
stored twice over is recognised by its id (intake.channels.telegram).
"""

import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from audit.log import key_problem
from intake.channels import bot_api, telegram
from privacy.canary import blind_index_key_problem, problem

log = logging.getLogger(__name__)

# Longest wait between tries while Telegram or the database cannot be reached.
LONGEST_PAUSE = 60
# Exit status of a poller refused for its settings (EX_CONFIG, as config/key_checks.py):
# bin/keep-running does not start it again only to be refused again.
EXIT_CONFIG = 78


class Command(BaseCommand):
    help = (
        "Takes the Telegram bot's updates by long polling (getUpdates), for a site Telegram "
        "cannot reach by webhook. Runs until stopped; needs TELEGRAM_BOT_TOKEN and no webhook."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=int, default=50, help="Seconds each call waits for updates (50)."
        )
        parser.add_argument(
            "--once", action="store_true", help="One call and what it brought, then exit."
        )

    def handle(self, *args, timeout: int, once: bool, **options):
        if not bot_api.is_on():
            raise CommandError(
                "TELEGRAM_BOT_TOKEN is not set: the bot is off.", returncode=EXIT_CONFIG
            )
        # As the worker does: on a wrong key, stored messages would be unreadable.
        if problems := [
            message
            for check in (problem, blind_index_key_problem, key_problem)
            if (message := check())
        ]:
            raise CommandError(" ".join(problems), returncode=EXIT_CONFIG)
        poller = Poller(timeout=timeout)
        if once:
            poller.round()
            return
        self.stdout.write("Polling Telegram for updates; stop with Ctrl-C.")
        try:
            while True:
                # A connection the database dropped (or one past its age) is opened again.
                close_old_connections()
                poller.round()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")


class Poller:
    def __init__(self, timeout: int):
        self.timeout = timeout
        self.offset: int | None = None
        self.failures = 0

    def round(self) -> int:
        """One getUpdates call and its updates, stored in order; returns how many were taken.
        A failure pauses (longer each time in a row) and leaves the offset where it was."""
        try:
            updates = bot_api.get_updates(self.offset, self.timeout, telegram.ALLOWED_UPDATES)
        except bot_api.BotFailure as error:
            if getattr(error, "status", None) == 409:
                log.error(
                    "Telegram refuses polling while a webhook is set: delete it "
                    "(manage.py telegram_webhook --delete) or stop polling."
                )
            else:
                log.warning("Telegram could not be polled (%s)", error.code)
            self._pause()
            return 0
        taken = 0
        for update in updates:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if not isinstance(update_id, int):
                continue  # nothing to confirm it by; Telegram never sends one
            try:
                telegram.update_receive(update)
            except Exception as error:  # the database down, most likely: try it again
                log.warning("Telegram update not stored (%s)", type(error).__name__)
                self._pause()
                return taken
            self.offset = update_id + 1
            taken += 1
        self.failures = 0
        return taken

    def _pause(self) -> None:
        self.failures += 1
        time.sleep(min(2**self.failures, LONGEST_PAUSE))

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from intake.channels import bot_api, telegram


class Command(BaseCommand):
    help = (
        "Tells Telegram where the bot's webhook is (SITE_URL + /telegram/webhook/, with "
        "TELEGRAM_WEBHOOK_SECRET), or that there is none (--delete, for polling), or shows "
        "what Telegram has (--info)."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--set", dest="set_it", action="store_true", help="Set the webhook.")
        action.add_argument("--delete", action="store_true", help="Remove the webhook.")
        action.add_argument("--info", action="store_true", help="Show the webhook's state.")

    def handle(self, *args, set_it: bool, delete: bool, info: bool, **options):
        if not bot_api.is_on():
            raise CommandError("TELEGRAM_BOT_TOKEN is not set: the bot is off.")
        try:
            if set_it:
                self._set()
            elif delete:
                bot_api.call("deleteWebhook", {"drop_pending_updates": False})
                self.stdout.write("Webhook removed: run `manage.py telegram_poll` to take updates.")
            else:
                self._info()
        except bot_api.BotFailure as error:
            raise CommandError(f"Telegram did not agree ({error.code}).") from None

    def _set(self) -> None:
        if not settings.TELEGRAM_WEBHOOK_SECRET:
            raise CommandError(
                "Set TELEGRAM_WEBHOOK_SECRET first: the webhook refuses every call without it."
            )
        url = settings.SITE_URL.rstrip("/") + reverse("telegram:webhook")
        if not url.startswith("https://"):
            raise CommandError(f"Telegram calls https:// addresses only, not {url}.")
        bot_api.call(
            "setWebhook",
            {
                "url": url,
                "secret_token": settings.TELEGRAM_WEBHOOK_SECRET,
                "allowed_updates": telegram.ALLOWED_UPDATES,
            },
        )
        self.stdout.write(f"Webhook set: Telegram calls {url}.")

    def _info(self) -> None:
        state = bot_api.call("getWebhookInfo", {})
        state = state if isinstance(state, dict) else {}
        # Only the address and the counts: Telegram's error text is not shown.
        self.stdout.write(f"Webhook: {state.get('url') or 'none (polling)'}")
        self.stdout.write(f"Updates waiting at Telegram: {state.get('pending_update_count', 0)}")
        if state.get("last_error_date"):
            self.stdout.write("Telegram's last call failed; see the web server's log.")

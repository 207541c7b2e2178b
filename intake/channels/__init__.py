"""Channels through which people write to us by themselves: the Telegram bot (bot_api,
telegram, views, and the telegram_poll command)."""

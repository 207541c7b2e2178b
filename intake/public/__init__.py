"""The public request form: a page on its own host names (PUBLIC_HOSTS, config/hosts.py) where
someone without Telegram asks for help, and comes back with a reference and a passphrase to
read the replies and write again. No account, no cookie, no script."""

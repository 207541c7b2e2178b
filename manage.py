#!/usr/bin/env python
import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["generate_keys"]:
        # Runs before settings load: production settings refuse to start without the very
        # keys this command makes.
        from config.environment import generate_keys

        for name, value in generate_keys().items():
            print(f"{name}={value}")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from config.environment import ConfigurationError

    try:
        execute_from_command_line(sys.argv)
    except ConfigurationError as error:
        sys.stderr.write(f"Configuration error: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()

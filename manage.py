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

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

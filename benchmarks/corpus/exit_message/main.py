import sys

SETTINGS = {"mode": "fast", "workers": "eight"}


def workers(settings):
    value = settings["workers"]
    if not value.isdigit():
        sys.exit(f"error: workers must be a number, got {value!r}")
    return int(value)


print(workers(SETTINGS))

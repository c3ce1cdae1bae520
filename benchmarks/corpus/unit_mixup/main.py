TIMEOUT_MS = 2500


def backoff(attempt, base_s):
    return base_s * (2 ** attempt)


def schedule(attempts):
    delays = [backoff(a, TIMEOUT_MS) for a in range(attempts)]
    for delay in delays:
        assert delay < 60, f"delay {delay}s is longer than a minute"
    return delays


print(schedule(3))

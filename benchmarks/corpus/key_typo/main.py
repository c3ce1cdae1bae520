import json

RAW = '{"host": "db.local", "port": 5432, "timout": 30}'


def load_config(text):
    config = json.loads(text)
    config.setdefault("retries", 3)
    return config


def connect(config):
    return f"{config['host']}:{config['port']} (timeout {config['timeout']}s)"


print(connect(load_config(RAW)))

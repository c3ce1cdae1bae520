import json

TEXT = """{
  "name": "svc",
  "ports": [80, 443,],
  "debug": false
}"""


def read_config(text):
    cleaned = text.strip()
    return json.loads(cleaned)


print(read_config(TEXT))

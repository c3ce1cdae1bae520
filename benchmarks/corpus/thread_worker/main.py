import threading

results = {}


def parse_chunk(name, chunk):
    total = 0
    for field in chunk.split(","):
        total += int(field)
    results[name] = total


threads = [threading.Thread(target=parse_chunk, args=(f"c{i}", text), name=f"parser-{i}")
           for i, text in enumerate(["1,2,3", "4,five,6", "7,8"])]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(results)

from multiprocessing import Pool


def parse_record(record):
    key, value = record.split("=")
    return key, int(value)


if __name__ == "__main__":
    with Pool(2) as pool:
        print(pool.map(parse_record, ["a=1", "b=2", "c3", "d=4"]))

import argparse


def parse(argv):
    parser = argparse.ArgumentParser(prog="resize")
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.width * args.scale < 1:
        parser.error(f"--width times --scale must be >= 1, got {args.width * args.scale}")
    return args


parse(["--width", "10", "--scale", "0.05"])

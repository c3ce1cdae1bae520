import asyncio


async def fetch(url, delay):
    await asyncio.sleep(delay)
    if not url.startswith("https://"):
        raise ValueError(f"insecure url: {url}")
    return len(url)


async def main():
    urls = ["https://a.example", "http://b.example", "https://c.example"]
    sizes = await asyncio.gather(*(fetch(u, 0.01) for u in urls))
    print(sizes)


asyncio.run(main())

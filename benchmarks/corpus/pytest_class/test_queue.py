class BoundedQueue:
    def __init__(self, size):
        self.size = size
        self.items = []

    def push(self, item):
        if len(self.items) > self.size:
            raise OverflowError("queue full")
        self.items.append(item)


class TestQueue:
    def setup_method(self):
        self.queue = BoundedQueue(2)

    def test_push_two(self):
        self.queue.push(1)
        self.queue.push(2)

    def test_third_push_rejected(self):
        for item in (1, 2, 3):
            self.queue.push(item)
        assert len(self.queue.items) == 2

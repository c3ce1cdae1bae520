_cache = {}


def get_tags(post_id):
    if post_id not in _cache:
        _cache[post_id] = ["python", "debugging"]
    return _cache[post_id]


def add_tag(post_id, tag):
    tags = get_tags(post_id)
    tags.append(tag)
    return tags


def render(post_id):
    tags = get_tags(post_id)
    assert len(tags) == len(set(tags)), f"duplicate tags {tags}"
    return ", ".join(tags)


add_tag(1, "python")
print(render(1))

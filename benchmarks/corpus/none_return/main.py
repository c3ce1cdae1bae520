USERS = {1: {"name": "ada"}, 2: {"name": "grace"}}


class User:
    def __init__(self, uid, name):
        self.uid = uid
        self.name = name


def find_user(uid):
    row = USERS.get(uid)
    if row:
        return User(uid, row["name"])


def greeting(uid):
    user = find_user(uid)
    return "Hello, " + user.name.upper()


for uid in (1, 2, 7):
    print(greeting(uid))

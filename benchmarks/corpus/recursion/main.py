def countdown_sum(k):
    if k == 0:
        return 0
    return k + countdown_sum(k - 2)


print(countdown_sum(9))

class Account:
    def __init__(self, owner, balance):
        self.owner = owner
        self.balance = balance

    def close(self):
        self.balance = None

    def withdraw(self, amount):
        self.balance = self.balance - amount
        return self.balance


acct = Account("ada", 100)
acct.withdraw(10)
acct.close()
acct.withdraw(5)

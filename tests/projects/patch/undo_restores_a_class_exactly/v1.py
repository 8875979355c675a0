class C:
    x = 1

    def f(self):
        return "f1"

    def only_old(self):
        return "old"

class C:
    x = 2

    def f(self):
        return "f2"

    def only_new(self):
        return "new"

class C:
    removed = 1

    def gone(self):
        return 1

    def stay(self):
        return "stay-old"

class C:
    added = 2

    def stay(self):
        return "stay-new " + self.fresh()

    def fresh(self):
        return "fresh"

class User:
    def name(self):
        return "new"

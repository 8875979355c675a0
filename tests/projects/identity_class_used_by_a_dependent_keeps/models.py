class User:
    def name(self):
        return "old"

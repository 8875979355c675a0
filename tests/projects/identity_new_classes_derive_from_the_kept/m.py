class B:
    def hi(self):
        return "b"

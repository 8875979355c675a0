class K:
    @staticmethod
    def s():
        return "s-old"

    @classmethod
    def c(cls):
        return "c-old " + cls.__name__

    @property
    def p(self):
        return "p-old"

    class Inner:
        def hi(self):
            return "inner-old"

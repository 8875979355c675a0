class K:
    @staticmethod
    def s():
        return "s-new"

    @classmethod
    def c(cls):
        return "c-new " + cls.__name__

    @property
    def p(self):
        return "p-new"

    class Inner:
        def hi(self):
            return "inner-new"

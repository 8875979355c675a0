class Tool:
    def use(self):
        return "new"


DEFAULT = Tool()
TOOLS = [Tool(), Tool()]

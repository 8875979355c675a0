class Tool:
    def use(self):
        return "old"


DEFAULT = Tool()
TOOLS = [Tool(), Tool()]

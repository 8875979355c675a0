def message():
    return "msg-v1"

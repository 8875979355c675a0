def describe():
    return "model-v1"

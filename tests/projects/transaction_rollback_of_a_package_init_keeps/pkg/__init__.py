from .core import V

W = V + 1

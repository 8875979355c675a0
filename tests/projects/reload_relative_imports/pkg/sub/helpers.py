from ..core import BASE

H = BASE * 10

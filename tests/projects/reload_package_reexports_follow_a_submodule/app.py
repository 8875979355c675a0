import pkg
from pkg import NAME

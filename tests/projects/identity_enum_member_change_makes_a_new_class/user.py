from col import Color

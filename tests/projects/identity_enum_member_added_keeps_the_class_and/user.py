from col import Color

FAV = Color.RED

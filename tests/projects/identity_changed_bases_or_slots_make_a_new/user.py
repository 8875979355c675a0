from m import Slotted, Sub

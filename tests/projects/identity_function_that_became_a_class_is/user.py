from m import Thing

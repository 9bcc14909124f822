from cext._speed import add

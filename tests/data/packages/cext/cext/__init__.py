from cext._speed import add as add

"""alpha: a pure-Python fixture package."""

import beta

VERSION = "1.0.0"


def main() -> None:
    print(f"hello from alpha {VERSION}, beta says {beta.answer()}")

"""Numbers as people read them."""


def percent(part: float, whole: float) -> int:
    """`part` of `whole` as a whole per cent, rounded half up (1 of 6 is 17%, 2 of 3 is 67%); 0 when whole is 0."""
    if whole <= 0:
        return 0
    return int((200 * part + whole) // (2 * whole))

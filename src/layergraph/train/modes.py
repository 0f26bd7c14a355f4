"""Whether a logged quantity is better when lower or higher: the one rule behind every ``mode="auto"``."""

MODES = ("auto", "min", "max")


def resolve_mode(name, mode, owner):
    """``"min"`` or ``"max"`` for the logged quantity *name*.

    Parameters
    ----------
    name : str
        A history / log key, e.g. ``"val_loss"``.
    mode : {"auto", "min", "max"}
        ``"auto"`` maximises quantities whose name contains ``"acc"`` (accuracy, ``val_top3_accuracy``) and
        minimises the rest (losses, errors).
    owner : str
        Named in the error.

    Raises
    ------
    ValueError
        *mode* is not one of ``"auto"``, ``"min"``, ``"max"``.
    """
    if mode == "auto":
        return "max" if "acc" in str(name) else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"{owner}: 'mode' must be 'min', 'max' or 'auto', got {mode!r}")
    return mode

"""Timing helpers shared by the benchmark scripts."""

import time


def warm_up(step, seconds):
    """Call *step* once, then again until *seconds* have passed (wall clock).

    With two threads on a virtual machine the steps right after an idle pause run slower than a training loop's
    steady state: after 0.3 s of idling, the first 10-20 two-thread steps of the pooling and ResNet rows of
    ``layers.py`` took up to 1.6 times as long as the later ones (an idle core is slow to wake at first). Warming up
    for about 0.1 s before the clock starts times the steady state for both libraries.
    """
    end = time.perf_counter() + seconds
    step()
    while time.perf_counter() < end:
        step()
